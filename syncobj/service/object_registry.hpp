// Which of the service's timelines or signalers a client's fd names. The fd is the capability:
// only a holder of the object's own file may act on it, so an fd names an object only if it
// is that very file, never another file that happens to look alike:
// - files are keyed by (st_dev, st_ino), never the inode number alone (a FIFO or file on a
//   file system the client mounted can take any inode number);
// - a timeline is the client end of a socket pair the service made: a SOCK_SEQPACKET socket,
//   and its socket cookie (unique for the life of the system, unlike inode numbers, which
//   are recycled) must be the one the service saw when it made the pair;
// - a signaler is the write end of an anonymous pipe (pipefs); a named FIFO never is one.
#pragma once

#include "fd_kind.hpp"

#include <cstdint>
#include <unordered_map>

namespace syncway::syncobj {

class ObjectRegistry {
public:
    enum class Kind { Timeline, Signaler };
    struct Entry {
        Kind kind = Kind::Timeline;
        uint64_t id = 0;
        uint64_t cookie = 0; // timelines: SO_COOKIE of the client end
    };

    explicit ObjectRegistry(dev_t pipefs_dev) : pipefs_dev_(pipefs_dev) {}

    dev_t pipefs_dev() const noexcept { return pipefs_dev_; }

    // False if another live object already has this file (the caller refuses it).
    bool add(const FileId& file, const Entry& e) { return map_.emplace(file, e).second; }
    // Removes the entry only if it still names object `id`.
    void remove(const FileId& file, uint64_t id)
    {
        auto it = map_.find(file);
        if (it != map_.end() && it->second.id == id)
            map_.erase(it);
    }
    bool contains(const FileId& file) const { return map_.count(file) != 0; }

    // The object `info` (from inspect_fd with this registry's pipefs_dev) names, given the
    // socket cookie of the fd (0 if it has none), or nullptr.
    const Entry* match(const FdInfo& info, uint64_t cookie) const
    {
        auto it = map_.find(info.id);
        if (it == map_.end())
            return nullptr;
        const Entry& e = it->second;
        if (e.kind == Kind::Timeline)
            return info.kind == FdKind::SeqpacketSocket && cookie != 0 && cookie == e.cookie ? &e : nullptr;
        return info.kind == FdKind::PipeWriteEnd && info.id.dev == pipefs_dev_ ? &e : nullptr;
    }

private:
    dev_t pipefs_dev_;
    std::unordered_map<FileId, Entry, FileIdHash> map_;
};

// SO_COOKIE of a socket, 0 for anything else.
uint64_t socket_cookie(int fd);

} // namespace syncway::syncobj
