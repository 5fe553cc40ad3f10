#include "fd_kind.hpp"
#include "object_registry.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace syncway::syncobj {

dev_t pipe_filesystem()
{
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0)
        return 0;
    struct stat st {};
    dev_t dev = fstat(ends[0], &st) == 0 ? st.st_dev : 0;
    close(ends[0]);
    close(ends[1]);
    return dev;
}

FdInfo inspect_fd(int fd, dev_t pipefs_dev)
{
    FdInfo info;
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0)
        return info;
    info.id = FileId{st.st_dev, st.st_ino};
    // Pipe ends are told apart by their device and access mode alone: SUBMIT (a signaler's
    // read end) pays no /proc lookup. S_ISFIFO holds for named FIFOs too; only pipefs holds
    // anonymous pipes.
    if (S_ISFIFO(st.st_mode) && pipefs_dev != 0) {
        if (st.st_dev != pipefs_dev) {
            info.kind = FdKind::NamedFifo;
            return info;
        }
        int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
        if (mode == O_RDONLY || mode == O_WRONLY) {
            info.kind = mode == O_RDONLY ? FdKind::PipeReadEnd : FdKind::PipeWriteEnd;
            return info;
        }
    }
    char path[64];
    char target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0)
        info.target.assign(target, static_cast<size_t>(n));
    if (S_ISFIFO(st.st_mode)) {
        // An anonymous pipe's link is "pipe:[ino]"; a FIFO's is its path.
        if (info.target.rfind("pipe:", 0) != 0) {
            info.kind = FdKind::NamedFifo;
            return info;
        }
        int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
        if (mode == O_RDONLY || mode == O_WRONLY) {
            info.kind = mode == O_RDONLY ? FdKind::PipeReadEnd : FdKind::PipeWriteEnd;
            return info;
        }
    }
    if (info.target == "anon_inode:[eventfd]")
        info.kind = FdKind::Eventfd;
    else if (info.target == "anon_inode:syncobj_file")
        info.kind = FdKind::KernelSyncobj;
    else if (info.target == "anon_inode:sync_file")
        info.kind = FdKind::KernelSyncFile;
    else if (S_ISSOCK(st.st_mode)) {
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET)
            info.kind = FdKind::SeqpacketSocket;
        else
            info.kind = FdKind::Other;
    } else
        info.kind = FdKind::Other;
    return info;
}

std::string describe_fd(int fd, const FdInfo& info)
{
    switch (info.kind) {
    case FdKind::Invalid:
        return "fd " + std::to_string(fd) + " (not an open file descriptor)";
    case FdKind::Eventfd:
        return "an eventfd";
    case FdKind::KernelSyncobj:
        return "a kernel syncobj fd";
    case FdKind::KernelSyncFile:
        return "a kernel sync_file";
    case FdKind::PipeReadEnd:
        return "the read end of a pipe";
    case FdKind::PipeWriteEnd:
        return "the write end of a pipe";
    case FdKind::NamedFifo: {
        std::string path = info.target;
        if (path.empty()) {
            char link[64];
            char target[PATH_MAX];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0)
                path.assign(target, static_cast<size_t>(n));
        }
        return "a named FIFO" + (path.empty() ? std::string() : " (\"" + path + "\")") +
               ", not an anonymous pipe";
    }
    case FdKind::SeqpacketSocket:
    case FdKind::Other:
        break;
    }
    if (info.target.rfind("socket:", 0) == 0) {
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
            return "a dead timeline (a socket whose other end is closed: its service is gone)";
        struct ucred cred {};
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
            return "a socket that is not a live timeline of this service (peer pid " +
                   std::to_string(cred.pid) + ")";
        return "a socket that is not a live timeline of this service (no peer: a dead timeline?)";
    }
    if (info.target.rfind("pipe:", 0) == 0)
        return "a pipe";
    if (info.target.rfind("/memfd:", 0) == 0)
        return "a memfd (" + info.target + ")";
    return "\"" + info.target + "\"";
}

uint64_t socket_cookie(int fd)
{
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    return getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0 ? cookie : 0;
}

} // namespace syncway::syncobj
