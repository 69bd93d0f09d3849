{{/* The chart name, at most 63 characters. */}}
{{- define "kustodian.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The base name of every object: the release name, prefixed unless it already holds the chart name. */}}
{{- define "kustodian.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kustodian.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kustodian.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "kustodian.labels" -}}
{{ include "kustodian.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kustodian.serviceAccountName" -}}
{{- default (include "kustodian.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "kustodian.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* A RoleBinding or ClusterRoleBinding subject: the controller's ServiceAccount. */}}
{{- define "kustodian.subject" -}}
- kind: ServiceAccount
  name: {{ include "kustodian.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}
