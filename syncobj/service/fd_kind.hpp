// What a file descriptor received from a client is, for validation and for error messages
// that name the bad input ("a pipe", "an eventfd", "/dev/null", ...).
#pragma once

#include <string>
#include <sys/types.h>

namespace syncway::syncobj {

enum class FdKind {
    Invalid,        // not an open fd
    Eventfd,
    KernelSyncobj,  // anon_inode:syncobj_file
    KernelSyncFile, // anon_inode:sync_file
    SeqpacketSocket,
    PipeReadEnd,
    PipeWriteEnd,
    Other,
};

struct FdInfo {
    FdKind kind = FdKind::Invalid;
    ino_t inode = 0;
    std::string target; // readlink of /proc/self/fd/N: "/dev/null", ... (not read for pipe ends)
};

FdInfo inspect_fd(int fd);
// "a pipe (pipe:[12])", "an eventfd", "a socket (peer pid 42)", ... for messages.
std::string describe_fd(int fd, const FdInfo& info);

} // namespace syncway::syncobj
