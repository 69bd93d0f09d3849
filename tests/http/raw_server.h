// A tiny raw-socket HTTP/1.1 server on 127.0.0.1 for transport tests that must see
// connections: it counts accepted connections and can close a connection instead of
// answering (to play a keep-alive socket that died under the client), or close a connection
// that stays idle too long after a response (a server's keep-alive timeout), over plain TCP or
// TLS (OpenSSL; an idle close then sends close_notify first, as TLS servers do).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kustodian::http_test {

// OpenSSL writes with write(2), so a peer that hangs up raises SIGPIPE; servers ignore it.
inline void IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }

// Thread-safe. Serves each connection on its own thread until Stop() or destruction.
class RawServer {
 public:
  // Decides, for request number `request` (0-based) on connection number `connection`, whether
  // to answer (true) or close the connection without a response (false).
  using Policy = std::function<bool(int connection, int request)>;

  // `idle_timeout_ms` > 0: a connection with no new request that long after a response is
  // closed by the server, as httplib's and most servers' keep-alive timeout does.
  // `cert_file` and `key_file` (PEM) non-empty: serve TLS; check TlsReady().
  explicit RawServer(Policy policy = nullptr, int idle_timeout_ms = 0,
                     const std::string& cert_file = "", const std::string& key_file = "")
      : policy_(std::move(policy)), idle_timeout_ms_(idle_timeout_ms) {
    IgnoreSigpipe();
    if (!cert_file.empty()) {
      ssl_ctx_ = SSL_CTX_new(TLS_server_method());
      if (ssl_ctx_ == nullptr ||
          SSL_CTX_use_certificate_chain_file(ssl_ctx_, cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ssl_ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return;
      }
      tls_ready_ = true;
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      return;
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawServer() {
    Stop();
    if (ssl_ctx_ != nullptr) {
      SSL_CTX_free(ssl_ctx_);
    }
  }
  bool TlsReady() const { return tls_ready_; }

  int Port() const { return port_; }
  int Connections() const { return connections_.load(); }
  int Requests() const { return requests_.load(); }
  // Connections closed by the idle timeout so far.
  int IdleClosed() const { return idle_closed_.load(); }
  std::string Url(const std::string& path) const {
    return absl::StrCat(ssl_ctx_ != nullptr ? "https" : "http", "://127.0.0.1:", port_, path);
  }

  void Stop() {
    if (stopped_.exchange(true)) {
      return;
    }
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (accept_thread_.joinable()) {
      accept_thread_.join();
    }
    ::close(listen_fd_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : conn_fds_) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    for (auto& t : conn_threads_) {
      t.join();
    }
    for (int fd : conn_fds_) {
      ::close(fd);
    }
  }

 private:
  void AcceptLoop() {
    while (!stopped_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      int index = connections_.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu_);
      conn_fds_.push_back(fd);
      conn_threads_.emplace_back([this, fd, index] { Serve(fd, index); });
    }
  }

  // One accepted connection: a socket, with a TLS session when serving TLS.
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;

    ssize_t Recv(char* data, size_t size) {
      if (ssl == nullptr) {
        return ::recv(fd, data, size, 0);
      }
      int n = SSL_read(ssl, data, static_cast<int>(size));
      return n > 0 ? n : -1;
    }
    bool SendAll(const std::string& data) {
      if (ssl == nullptr) {
        return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(data.size());
      }
      return SSL_write(ssl, data.data(), static_cast<int>(data.size())) ==
             static_cast<int>(data.size());
    }
    // Bytes already read from the socket and decrypted, not yet returned by Recv.
    bool HasPending() const { return ssl != nullptr && SSL_pending(ssl) > 0; }
  };

  // Reads one request (headers plus Content-Length body). False on EOF or error.
  static bool ReadRequest(Conn& conn, std::string& buffer) {
    std::array<char, 4096> chunk;
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = conn.Recv(chunk.data(), chunk.size());
      if (n <= 0) {
        return false;
      }
      buffer.append(chunk.data(), static_cast<size_t>(n));
    }
    size_t body_length = 0;
    std::string lower = absl::AsciiStrToLower(buffer.substr(0, header_end));
    if (size_t pos = lower.find("\r\ncontent-length:"); pos != std::string::npos) {
      size_t eol = lower.find("\r\n", pos + 2);
      std::string value(absl::StripAsciiWhitespace(lower.substr(pos + 17, eol - pos - 17)));
      (void)absl::SimpleAtoi(value, &body_length);
    }
    size_t total = header_end + 4 + body_length;
    while (buffer.size() < total) {
      ssize_t n = conn.Recv(chunk.data(), chunk.size());
      if (n <= 0) {
        return false;
      }
      buffer.append(chunk.data(), static_cast<size_t>(n));
    }
    buffer.erase(0, total);
    return true;
  }

  // False when nothing arrives on the connection within the idle timeout (none set: true).
  bool AwaitNextRequest(const Conn& conn, const std::string& buffer) const {
    if (idle_timeout_ms_ <= 0 || !buffer.empty() || conn.HasPending()) {
      return true;
    }
    pollfd p{};
    p.fd = conn.fd;
    p.events = POLLIN;
    return ::poll(&p, 1, idle_timeout_ms_) != 0;
  }

  void Serve(int fd, int connection) {
    Conn conn{fd, nullptr};
    if (ssl_ctx_ != nullptr) {
      conn.ssl = SSL_new(ssl_ctx_);
      if (conn.ssl == nullptr || SSL_set_fd(conn.ssl, fd) != 1 || SSL_accept(conn.ssl) != 1) {
        if (conn.ssl != nullptr) {
          SSL_free(conn.ssl);
        }
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
    }
    std::string buffer;
    for (int request = 0; ReadRequest(conn, buffer); ++request) {
      requests_.fetch_add(1);
      if (policy_ && !policy_(connection, request)) {
        break;
      }
      std::string body = absl::StrCat("conn=", connection, " req=", request);
      std::string response = absl::StrCat(
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ", body.size(),
          "\r\n\r\n", body);
      if (!conn.SendAll(response)) {
        break;
      }
      if (!AwaitNextRequest(conn, buffer)) {
        if (conn.ssl != nullptr) {
          SSL_shutdown(conn.ssl);  // close_notify, then the FIN
        }
        ::shutdown(fd, SHUT_RDWR);
        idle_closed_.fetch_add(1);
        break;
      }
    }
    if (conn.ssl != nullptr) {
      SSL_free(conn.ssl);
    }
    // Closed in Stop(), so Stop() never shuts down a reused descriptor number.
    ::shutdown(fd, SHUT_RDWR);
  }

  Policy policy_;
  const int idle_timeout_ms_;
  SSL_CTX* ssl_ctx_ = nullptr;
  bool tls_ready_ = false;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> idle_closed_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> conn_fds_;              // guarded by mu_
  std::vector<std::thread> conn_threads_;  // guarded by mu_ (joined in Stop)
};

}  // namespace kustodian::http_test
