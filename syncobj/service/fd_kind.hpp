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
    PipeReadEnd,    // an anonymous pipe (pipefs), opened for reading
    PipeWriteEnd,   // an anonymous pipe (pipefs), opened for writing
    NamedFifo,      // S_ISFIFO like a pipe, but a file on some file system (mkfifo)
    Other,
};

// Which file an fd refers to. An inode number alone is not one: every file system numbers
// its own inodes, and a client can make a FIFO or a file on a file system it mounted (tmpfs
// in a user namespace) with any inode number it likes. Within one device the pair names one
// live inode.
struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const FileId&) const = default;
};
struct FileIdHash {
    size_t operator()(const FileId& id) const noexcept
    {
        return static_cast<size_t>(id.ino) * 0x9E3779B97F4A7C15ull ^ static_cast<size_t>(id.dev);
    }
};

struct FdInfo {
    FdKind kind = FdKind::Invalid;
    FileId id;
    std::string target; // readlink of /proc/self/fd/N: "/dev/null", ... (not read for pipe ends)
};

// `pipefs_dev`: the st_dev of anonymous pipes (PipeFilesystem below), which tells a pipe from a
// named FIFO by one fstat; 0 to tell them apart by the /proc link instead (one more syscall).
FdInfo inspect_fd(int fd, dev_t pipefs_dev = 0);
// "a pipe (pipe:[12])", "an eventfd", "a socket (peer pid 42)", ... for messages.
std::string describe_fd(int fd, const FdInfo& info);

// The st_dev of anonymous pipes on this system (all of them live on the one internal pipefs
// mount), learned from a pipe made and closed here; 0 if no pipe could be made.
dev_t pipe_filesystem();

} // namespace syncway::syncobj
