// Keeps kus_fakes non-empty when tests/fakes holds only headers.
namespace kustodian::fakes_anchor {}
