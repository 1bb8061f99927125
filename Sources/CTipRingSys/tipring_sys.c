/* accept4, SOCK_NONBLOCK, MADV_*: Linux extensions, in glibc and musl alike. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tipring_sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int tr_ipv4_parse(const char *text, uint32_t *address) {
    struct in_addr a;
    if (inet_pton(AF_INET, text, &a) != 1) return -EINVAL;
    *address = a.s_addr;
    return 0;
}

void tr_ipv4_format(uint32_t address, char out[16]) {
    struct in_addr a = { .s_addr = address };
    if (!inet_ntop(AF_INET, &a, out, 16)) out[0] = 0;
}

int tr_resolve_ipv4(const char *host, uint32_t *address) {
    int n = tr_resolve_ipv4_all(host, address, 1);
    return n > 0 ? 0 : -EHOSTUNREACH;
}

int tr_resolve_ipv4_all(const char *host, uint32_t *addresses, int max) {
    if (host == NULL || addresses == NULL || max <= 0) return -EINVAL;
    struct addrinfo hints, *result = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(host, NULL, &hints, &result);
    if (rc != 0) {
#ifdef EAI_NODATA
        if (rc == EAI_NODATA) return -ENOENT;
#endif
        return rc == EAI_NONAME ? -ENOENT : -EAGAIN;
    }
    int count = 0;
    for (struct addrinfo *a = result; a != NULL && count < max; a = a->ai_next) {
        if (a->ai_family != AF_INET || a->ai_addrlen < (socklen_t)sizeof(struct sockaddr_in)) continue;
        uint32_t address = ((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr;
        int seen = 0;
        for (int i = 0; i < count && !seen; i++) seen = addresses[i] == address;
        if (!seen) addresses[count++] = address;
    }
    freeaddrinfo(result);
    return count > 0 ? count : -ENOENT;
}

static struct sockaddr_in ipv4(uint32_t address, uint16_t port) {
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = address;
    return s;
}

int tr_udp_open(uint32_t address, uint16_t port, int tos) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in s = ipv4(address, port);
    if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (tos >= 0 && setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int tr_wait_readable(int fd, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n >= 0) return n > 0 ? 1 : 0;
        if (errno != EINTR) return -errno;
    }
}

int tr_udp_tos(int fd) {
    int tos = 0;
    socklen_t len = sizeof tos;
    if (getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len) != 0) return -errno;
    return tos;
}

ssize_t tr_udp_send(int fd, const void *bytes, size_t count, uint32_t address, uint16_t port) {
    struct sockaddr_in s = ipv4(address, port);
    for (;;) {
        ssize_t n = sendto(fd, bytes, count, MSG_DONTWAIT, (struct sockaddr *)&s, sizeof s);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

ssize_t tr_udp_receive(int fd, void *buffer, size_t capacity, uint32_t *address, uint16_t *port) {
    struct sockaddr_in s;
    for (;;) {
        socklen_t len = sizeof s;
        ssize_t n = recvfrom(fd, buffer, capacity, MSG_DONTWAIT, (struct sockaddr *)&s, &len);
        if (n >= 0) {
            *address = s.sin_addr.s_addr;
            *port = ntohs(s.sin_port);
            return n;
        }
        if (errno != EINTR) return -errno;
    }
}

int tr_route_source(uint32_t address, uint16_t port, uint32_t *source) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in s = ipv4(address, port);
    int rc = connect(fd, (struct sockaddr *)&s, sizeof s);
    if (rc == 0) {
        socklen_t len = sizeof s;
        rc = getsockname(fd, (struct sockaddr *)&s, &len);
    }
    int e = rc == 0 ? 0 : errno;
    close(fd);
    if (e) return -e;
    *source = s.sin_addr.s_addr;
    return 0;
}

static int unix_address(const char *path, struct sockaddr_un *s) {
    memset(s, 0, sizeof *s);
    s->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof s->sun_path) return -ENAMETOOLONG;
    strcpy(s->sun_path, path);
    return 0;
}

int tr_unix_listen(const char *path, int backlog, unsigned mode) {
    struct sockaddr_un s;
    int rc = unix_address(path, &s);
    if (rc) return rc;
    /* The socket's own directory (/var/run/tipring) is made when missing. */
    char dir[sizeof s.sun_path];
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (access(dir, F_OK) != 0) mkdir(dir, 0755);
    }
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    chmod(path, (mode_t)mode);
    return fd;
}

int tr_unix_connect(const char *path) {
    struct sockaddr_un s;
    int rc = unix_address(path, &s);
    if (rc) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    for (;;) {
        if (connect(fd, (struct sockaddr *)&s, sizeof s) == 0) return fd;
        if (errno != EINTR) break;
    }
    int e = errno;
    close(fd);
    return -e;
}

int tr_accept(int fd) {
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) return c;
        if (errno != EINTR) return -errno;
    }
}

ssize_t tr_read(int fd, void *buffer, size_t capacity) {
    for (;;) {
        ssize_t n = read(fd, buffer, capacity);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

int tr_write_all(int fd, const void *bytes, size_t count) {
    const char *p = bytes;
    while (count > 0) {
        /* send, not write: a peer that has gone away is EPIPE here, never a SIGPIPE that
         * would end the daemon. */
        ssize_t n = send(fd, p, count, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        count -= (size_t)n;
    }
    return 0;
}

void tr_shutdown(int fd) {
    shutdown(fd, SHUT_RDWR);
}

int tr_close(int fd) {
    /* close is not retried on EINTR: Linux has released the descriptor already. */
    return close(fd) == 0 ? 0 : -errno;
}

int tr_unlink(const char *path) {
    return unlink(path) == 0 ? 0 : -errno;
}

struct start {
    void (*body)(void *);
    void *context;
};

static void *trampoline(void *raw) {
    struct start s = *(struct start *)raw;
    free(raw);
    s.body(s.context);
    return NULL;
}

int tr_thread_start(void (*body)(void *), void *context, int detached, uint64_t *thread) {
    struct start *s = malloc(sizeof *s);
    if (!s) return -ENOMEM;
    s->body = body;
    s->context = context;
    pthread_t t;
    int rc = pthread_create(&t, NULL, trampoline, s);
    if (rc != 0) {
        free(s);
        return -rc;
    }
    if (detached) pthread_detach(t);
    *thread = (uint64_t)(uintptr_t)t;
    return 0;
}

uint64_t tr_thread_self(void) {
    return (uint64_t)(uintptr_t)pthread_self();
}

int tr_thread_join(uint64_t thread) {
    return -pthread_join((pthread_t)(uintptr_t)thread, NULL);
}

int tr_page_out(void *start, size_t length) {
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
    (void)madvise(start, length, MADV_RANDOM);
    return madvise(start, length, MADV_PAGEOUT) == 0 ? 0 : -errno;
}

ssize_t tr_read_link(const char *path, char *out, size_t capacity) {
    if (capacity == 0) return -EINVAL;
    ssize_t n = readlink(path, out, capacity - 1);
    if (n < 0) return -errno;
    out[n] = 0;
    return n;
}

int tr_file_mode(const char *path, unsigned *mode) {
    struct stat st;
    if (stat(path, &st) != 0) return -errno;
    *mode = (unsigned)(st.st_mode & 07777);
    return 0;
}

int tr_memory_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

int tr_socket_timeouts(int fd, int milliseconds) {
    struct timeval t = { .tv_sec = milliseconds / 1000, .tv_usec = (milliseconds % 1000) * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t) != 0) return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t) != 0) return -errno;
    return 0;
}

int tr_notify(const char *socket_path, const char *message) {
    if (socket_path == NULL || message == NULL) return -EINVAL;
    size_t length = strlen(socket_path);
    struct sockaddr_un s;
    memset(&s, 0, sizeof s);
    s.sun_family = AF_UNIX;
    if (length < 2 || length >= sizeof s.sun_path) return -EINVAL;
    memcpy(s.sun_path, socket_path, length);
    if (s.sun_path[0] == '@') s.sun_path[0] = 0;   /* the abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
    ssize_t n = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&s, size);
    int e = errno;
    close(fd);
    return n < 0 ? -e : 0;
}

int tr_getpid(void) { return (int)getpid(); }
