// Requests on the service's raw wire, for tests that send what the client library never would.
#pragma once

#include "embedded_service.hpp"

#include <syncobj_service_wire.h>

#include <string>
#include <vector>

namespace syncobj_test {

inline int raw_connect(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Sends raw bytes (and fds) and returns the reply's errno (0), or -1 if no reply came.
inline int raw_request(EmbeddedService& es, int sock, const void* data, size_t len, std::vector<int> fds = {},
                std::string* text = nullptr)
{
    iovec iov{const_cast<void*>(data), len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 8)];
    if (!fds.empty()) {
        msg.msg_control = cbuf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        return -2;
    es.pump(5);
    char buf[4096];
    ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT);
    if (n < static_cast<ssize_t>(sizeof(syncobj_wire_reply)))
        return -1;
    syncobj_wire_reply r;
    std::memcpy(&r, buf, sizeof r);
    if (text && r.error)
        *text = std::string(buf + sizeof r);
    return r.error;
}

// Sends one request without fds and returns its whole reply (error -1: none came), keeping
// an fd the reply carries in *fd (else -1).
inline syncobj_wire_reply raw_call(EmbeddedService& es, int sock, const void* data, size_t len, int* fd = nullptr)
{
    syncobj_wire_reply r{};
    r.error = -1;
    if (fd)
        *fd = -1;
    if (send(sock, data, len, MSG_NOSIGNAL) < 0)
        return r;
    es.pump(5);
    char buf[4096];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < static_cast<ssize_t>(sizeof r))
        return r;
    std::memcpy(&r, buf, sizeof r);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got;
            std::memcpy(&got, CMSG_DATA(c), sizeof got);
            if (fd)
                *fd = got;
            else
                close(got);
        }
    return r;
}

} // namespace syncobj_test
