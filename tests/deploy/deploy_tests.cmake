# Tests of the deployment artifacts (crd/, manifests/, helm/kustodian/, Dockerfile). Included
# from CMakeLists.txt after kustodian_test() is defined. They need /usr/bin/python3 with
# python3-yaml, kubectl and helm: `make deps` installs them.

# crd_schema_test.cc: the CRD agrees with src/model/schema.cc.
kustodian_test(deploy_test tests/deploy kus_model yaml-cpp)

set(KUS_DEPLOY_PY /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/deploy/deploy_test.py -v)

# The examples (and tests/deploy/testdata/valid) apply; tests/deploy/testdata/invalid is refused.
add_test(NAME deploy_crd_documents
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/deploy/crd_check.py
                 ${CMAKE_SOURCE_DIR}/crd/dataconnections.kustodian.io.yaml
                 --valid ${CMAKE_SOURCE_DIR}/examples/manifests
                         ${CMAKE_SOURCE_DIR}/tests/deploy/testdata/valid
                 --invalid ${CMAKE_SOURCE_DIR}/tests/deploy/testdata/invalid)
# kubectl kustomize manifests/ (and the optional component).
add_test(NAME deploy_kustomize COMMAND ${KUS_DEPLOY_PY} KustomizeTest)
# helm lint and helm template with default and other values.
add_test(NAME deploy_helm COMMAND ${KUS_DEPLOY_PY} HelmTest)
# helm template with default values equals manifests/ in effect.
add_test(NAME deploy_helm_matches_manifests COMMAND ${KUS_DEPLOY_PY} HelmMatchesManifestsTest)
# The Dockerfile's runtime packages provide every shared library the built binary needs.
add_test(NAME deploy_dockerfile COMMAND ${KUS_DEPLOY_PY} DockerfileTest)
set_tests_properties(deploy_crd_documents deploy_kustomize deploy_helm
                     deploy_helm_matches_manifests deploy_dockerfile
                     PROPERTIES TIMEOUT 120 LABELS deploy
                     ENVIRONMENT "KUSTODIAN_SOURCE_DIR=${CMAKE_SOURCE_DIR};KUSTODIAN_BINARY=$<TARGET_FILE:kustodian>")
if(KUSTODIAN_HTTPLIB_SOURCE)
  # This build compiles cpp-httplib in (make test-tsan); the image's plain build links Debian's.
  set_property(TEST deploy_dockerfile APPEND PROPERTY ENVIRONMENT
               "KUSTODIAN_HTTPLIB_COMPILED_IN=1")
endif()
