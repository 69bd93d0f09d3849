// Entry point of `kustodian-emulator` (being built).
int main() { return 1; }
