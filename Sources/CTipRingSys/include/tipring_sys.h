#ifndef TIPRING_SYS_H
#define TIPRING_SYS_H
/* The system calls TipRing makes outside the hardware layer, each returning the result or
 * -errno (never a stale global errno), with EINTR retried here. glibc and musl alike. */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <errno.h>

/* An IP address of either family and a port: what sockets take and give. */
typedef struct tr_endpoint {
    uint8_t family;       /* 4 or 6 */
    uint8_t address[16];  /* network order; IPv4 in the first four bytes */
    uint16_t port;        /* host order */
} tr_endpoint;

/* Text (a dotted quad or an RFC 4291 IPv6 address, no brackets) <-> address: 0 on success,
 * -EINVAL when not one. The text form is inet_ntop's (IPv6 compressed, lower case). */
int tr_ip_parse(const char *text, tr_endpoint *endpoint);
void tr_ip_format(const tr_endpoint *endpoint, char out[46]);

/* Up to `max` distinct addresses of `host`, IPv4 and IPv6, in getaddrinfo's order (RFC 6724
 * destination selection; /etc/hosts, then DNS; numeric hosts pass through): how many;
 * -ENOENT when the name does not exist, -EAGAIN when no server answered (or another
 * failure). `family` 4 or 6 asks for that family only, 0 for both. Blocks: not on the control
 * plane. */
int tr_resolve(const char *host, int family, tr_endpoint *addresses, int max);

/* A non-blocking, close-on-exec UDP socket bound to the endpoint (an IPv6 socket takes IPv6
 * only); the IPv4 TOS or IPv6 traffic class set when tos >= 0. */
int tr_udp_open(const tr_endpoint *local, int tos);
/* Waits up to timeout_ms for something to read: 1 when there is, 0 when the time ran out,
 * or -errno. */
int tr_wait_readable(int fd, int timeout_ms);
/* The TOS byte (traffic class) a socket marks packets with, or -errno. */
int tr_udp_tos(int fd, int family);
/* One datagram without blocking: bytes sent or -errno. */
ssize_t tr_udp_send(int fd, const void *bytes, size_t count, const tr_endpoint *destination);
/* One datagram if one waits: its length (and source) or -errno (-EAGAIN: none). */
ssize_t tr_udp_receive(int fd, void *buffer, size_t capacity, tr_endpoint *source);

/* The local address the kernel's routing table picks toward the destination (a connected
 * UDP socket sends nothing): 0 and *source, or -errno. */
int tr_route_source(const tr_endpoint *destination, tr_endpoint *source);

/* A Unix stream socket listening at path (the old one removed, the directory made, the
 * socket's mode set): the descriptor or -errno (-ENAMETOOLONG for a path too long). */
int tr_unix_listen(const char *path, int backlog, unsigned mode);
int tr_unix_connect(const char *path);
/* An exclusive lock (flock) on the file at `path`, made if missing with its directory, held
 * until the descriptor closes or the process ends; the caller's pid written into it. The
 * descriptor, or -EWOULDBLOCK when another process holds the lock (its pid then in
 * *holder, 0 if unknown). */
int tr_lock_exclusive(const char *path, int *holder);
/* One datagram to a service manager's notification socket (systemd's NOTIFY_SOCKET: a path,
 * or an abstract name written with a leading '@'): 0 or -errno. */
int tr_notify(const char *socket_path, const char *message);
/* getpid(). */
int tr_getpid(void);
/* Reads and writes on `fd` give up (-EAGAIN) after `milliseconds` without progress. */
int tr_socket_timeouts(int fd, int milliseconds);
/* The next connection, or -errno. */
int tr_accept(int fd);
/* Reads what is there (0: end), or -errno. */
ssize_t tr_read(int fd, void *buffer, size_t capacity);
/* Writes everything to a socket: 0 or -errno (-EPIPE when the peer has gone: no SIGPIPE). */
int tr_write_all(int fd, const void *bytes, size_t count);
/* Wakes a thread blocked in accept or read on fd (it then sees an error or the end). */
void tr_shutdown(int fd);
int tr_close(int fd);
int tr_unlink(const char *path);

/* A thread running body(context); joinable unless detached. 0 and *thread, or -errno. */
int tr_thread_start(void (*body)(void *), void *context, int detached, uint64_t *thread);
int tr_thread_join(uint64_t thread);
/* The calling thread's identity, comparable with what tr_thread_start gave. */
uint64_t tr_thread_self(void);

/* Advises the kernel that [start, start+length) is read at random and may be paged out now
 * (MADV_PAGEOUT, Linux 5.4): 0 or -errno (-EINVAL on older kernels). */
int tr_page_out(void *start, size_t length);
/* The target of a symbolic link, NUL-terminated: its length or -errno. */
ssize_t tr_read_link(const char *path, char *out, size_t capacity);
/* The permission bits of a file (stat): 0 and *mode, or -errno. */
int tr_file_mode(const char *path, unsigned *mode);

/* The source revision the binary was built from (scripts/release-build.sh writes it into
 * tipring_revision.h), or "development build". */
const char *tr_build_revision(void);

/* Gives freed heap back to the system (glibc malloc_trim; nothing to do on musl). 1 when
 * memory was released. */
int tr_memory_trim(void);

#endif
