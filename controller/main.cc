// Composition root of the `kustodian` binary (being built; see controller/cli.h when present).
int main() { return 1; }
