// SCM_RIGHTS on Unix sockets: attach one fd to a message, take every fd a message carried.
// Shared by the service, the client library, and the tests and benchmarks that pass fds.
#pragma once

#include <syncway/unique_fd.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace syncway::syncobj {

// Control buffer for one fd; keep it alive until sendmsg returns.
struct OneFdControl {
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))];
};

inline void attach_fd(msghdr& msg, OneFdControl& control, int fd)
{
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
}

// A receive buffer: room for one message of Size bytes and up to MaxFds fds. Not copyable
// (msg points into it).
template <size_t Size, size_t MaxFds> struct ReceiveBuffer {
    alignas(8) uint8_t data[Size];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * MaxFds)];
    iovec iov{data, Size};
    msghdr msg{};

    ReceiveBuffer()
    {
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    ReceiveBuffer(const ReceiveBuffer&) = delete;
    ReceiveBuffer& operator=(const ReceiveBuffer&) = delete;
};

// Every fd in the message, owned (so none leaks whatever the caller decides).
inline std::vector<UniqueFd> take_fds(msghdr& msg)
{
    std::vector<UniqueFd> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
    return fds;
}

// One byte with one fd, for handing a timeline to another process.
inline bool send_one_fd(int sock, int fd)
{
    char byte = 'F';
    iovec iov{&byte, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    OneFdControl control;
    attach_fd(msg, control, fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

// The counterpart of send_one_fd: the fd, or -1.
inline int recv_one_fd(int sock)
{
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    auto fds = take_fds(msg);
    return fds.empty() ? -1 : fds[0].release();
}

} // namespace syncway::syncobj
