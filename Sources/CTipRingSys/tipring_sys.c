/* accept4, SOCK_NONBLOCK, MADV_*: Linux extensions, in glibc and musl alike. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tipring_sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if __has_include("tipring_revision.h")
#include "tipring_revision.h" /* #define TIPRING_REVISION "…", from scripts/release-build.sh */
#endif
#ifndef TIPRING_REVISION
#define TIPRING_REVISION "development build"
#endif

const char *tr_build_revision(void) { return TIPRING_REVISION; }

int tr_ip_parse(const char *text, tr_endpoint *endpoint) {
    memset(endpoint->address, 0, sizeof endpoint->address);
    if (inet_pton(AF_INET, text, endpoint->address) == 1) {
        endpoint->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, endpoint->address) == 1) {
        endpoint->family = 6;
        return 0;
    }
    return -EINVAL;
}

void tr_ip_format(const tr_endpoint *endpoint, char out[46]) {
    int family = endpoint->family == 6 ? AF_INET6 : AF_INET;
    if (!inet_ntop(family, endpoint->address, out, 46)) out[0] = 0;
}

/* A socket address from an endpoint; its length, 0 for an unknown family. */
static socklen_t socket_address(const tr_endpoint *e, struct sockaddr_storage *s) {
    memset(s, 0, sizeof *s);
    if (e->family == 4) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)s;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(e->port);
        memcpy(&v4->sin_addr, e->address, 4);
        return sizeof *v4;
    }
    if (e->family == 6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)s;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(e->port);
        memcpy(&v6->sin6_addr, e->address, 16);
        return sizeof *v6;
    }
    return 0;
}

/* An endpoint from a socket address; 0, or -EAFNOSUPPORT for another family. */
static int endpoint_of(const struct sockaddr *s, socklen_t length, tr_endpoint *e) {
    memset(e, 0, sizeof *e);
    if (s->sa_family == AF_INET && length >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)s;
        e->family = 4;
        memcpy(e->address, &v4->sin_addr, 4);
        e->port = ntohs(v4->sin_port);
        return 0;
    }
    if (s->sa_family == AF_INET6 && length >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)s;
        e->family = 6;
        memcpy(e->address, &v6->sin6_addr, 16);
        e->port = ntohs(v6->sin6_port);
        return 0;
    }
    return -EAFNOSUPPORT;
}

int tr_resolve(const char *host, int family, tr_endpoint *addresses, int max) {
    if (host == NULL || addresses == NULL || max <= 0) return -EINVAL;
    struct addrinfo hints, *result = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
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
        tr_endpoint e;
        if (endpoint_of(a->ai_addr, a->ai_addrlen, &e) != 0) continue;
        int seen = 0;
        for (int i = 0; i < count && !seen; i++) {
            seen = addresses[i].family == e.family && memcmp(addresses[i].address, e.address, 16) == 0;
        }
        if (!seen) addresses[count++] = e;
    }
    freeaddrinfo(result);
    return count > 0 ? count : -ENOENT;
}

int tr_udp_open(const tr_endpoint *local, int tos) {
    struct sockaddr_storage s;
    socklen_t length = socket_address(local, &s);
    if (length == 0) return -EAFNOSUPPORT;
    int fd = socket(s.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    int rc = 0;
    /* An IPv6 socket takes IPv6 only: IPv4 peers would otherwise arrive as ::ffff:a.b.c.d,
     * which no source screen compares equal to the address it expects. */
    if (local->family == 6) rc = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (rc == 0) rc = bind(fd, (struct sockaddr *)&s, length);
    if (rc == 0 && tos >= 0) {
        rc = local->family == 6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
                                : setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    }
    if (rc != 0) {
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

int tr_udp_tos(int fd, int family) {
    int tos = 0;
    socklen_t len = sizeof tos;
    int rc = family == 6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, &len) : getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len);
    if (rc != 0) return -errno;
    return tos;
}

ssize_t tr_udp_send(int fd, const void *bytes, size_t count, const tr_endpoint *destination) {
    struct sockaddr_storage s;
    socklen_t length = socket_address(destination, &s);
    if (length == 0) return -EAFNOSUPPORT;
    for (;;) {
        ssize_t n = sendto(fd, bytes, count, MSG_DONTWAIT, (struct sockaddr *)&s, length);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

ssize_t tr_udp_receive(int fd, void *buffer, size_t capacity, tr_endpoint *source) {
    struct sockaddr_storage s;
    for (;;) {
        socklen_t len = sizeof s;
        ssize_t n = recvfrom(fd, buffer, capacity, MSG_DONTWAIT, (struct sockaddr *)&s, &len);
        if (n >= 0) {
            if (endpoint_of((struct sockaddr *)&s, len, source) != 0) memset(source, 0, sizeof *source);
            return n;
        }
        if (errno != EINTR) return -errno;
    }
}

int tr_route_source(const tr_endpoint *destination, tr_endpoint *source) {
    struct sockaddr_storage s;
    socklen_t length = socket_address(destination, &s);
    if (length == 0) return -EAFNOSUPPORT;
    int fd = socket(s.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int rc = connect(fd, (struct sockaddr *)&s, length);
    if (rc == 0) {
        length = sizeof s;
        rc = getsockname(fd, (struct sockaddr *)&s, &length);
    }
    int e = rc == 0 ? 0 : errno;
    close(fd);
    if (e) return -e;
    return endpoint_of((struct sockaddr *)&s, length, source);
}

static int unix_address(const char *path, struct sockaddr_un *s) {
    memset(s, 0, sizeof *s);
    s->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof s->sun_path) return -ENAMETOOLONG;
    strcpy(s->sun_path, path);
    return 0;
}

/* Makes the directory a file at `path` is in, when it is missing (one level). */
static void make_parent(const char *path) {
    char dir[PATH_MAX];
    if (strlen(path) >= sizeof dir) return;
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (access(dir, F_OK) != 0) mkdir(dir, 0755);
    }
}

int tr_lock_exclusive(const char *path, int *holder) {
    *holder = 0;
    make_parent(path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char text[24] = {0};
        if (e == EWOULDBLOCK && read(fd, text, sizeof text - 1) > 0) *holder = atoi(text);
        close(fd);
        return -e;
    }
    char text[24];
    int n = snprintf(text, sizeof text, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0 && n > 0) {
        ssize_t w = pwrite(fd, text, (size_t)n, 0);
        (void)w;
    }
    return fd;
}

int tr_unix_listen(const char *path, int backlog, unsigned mode) {
    struct sockaddr_un s;
    int rc = unix_address(path, &s);
    if (rc) return rc;
    /* The socket's own directory (/var/run/tipring) is made when missing. */
    make_parent(path);
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
