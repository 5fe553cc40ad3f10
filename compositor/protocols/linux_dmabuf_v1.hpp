// zwp_linux_dmabuf_v1 for the CPU (pixman) renderer. wlroots 0.15 offers linux-dmabuf only
// with a renderer that imports dma-bufs as textures (gles2, which wlr_renderer_init_wl_display
// sets up itself); with pixman this file provides it: linear single-plane buffers, CPU-mapped
// once per wl_buffer, sampled through wlr_buffer's data-pointer access, with implicit sync
// (the dma-buf's write fences) honoured before a commit applies unless the surface syncs
// explicitly. A buffer that is a dma-buf also offers it (wlr_buffer get_dmabuf), so that KMS
// can scan it out without a composite (direct_scanout.hpp). Version 4 (with feedback) when a DRM device exists to name as the main device,
// else 3 (docs/DESIGN.md §3, wlroots 0.15.1).
#pragma once

#include "../commit_gate.hpp"
#include "../listener.hpp"

#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include <sys/types.h>

namespace syncway {

class Server;
class ClientLedger;

// Whether `buffer` is one of this protocol's wl_buffers: a dma-buf or a memfd sealed against
// shrinking, so reading its mapping can never fault with SIGBUS.
bool is_linux_dmabuf_v1_buffer(wlr_buffer* buffer);

class LinuxDmabufV1 {
public:
    explicit LinuxDmabufV1(Server& server);
    ~LinuxDmabufV1();
    LinuxDmabufV1(const LinuxDmabufV1&) = delete;
    LinuxDmabufV1& operator=(const LinuxDmabufV1&) = delete;

    // Requests (called from C; public for the file's trampolines).
    struct Format {
        uint32_t fourcc;
        uint32_t bytes_per_pixel;
    };
    const std::vector<Format>& formats() const noexcept { return formats_; }
    // Where the fds clients park in params and buffers are charged (--limit-dmabuf-fds).
    ClientLedger& ledger() const;
    void bind(wl_client* client, uint32_t version, uint32_t id);
    void send_feedback(wl_resource* feedback);

private:
    class ImplicitWait;
    // At the commit gate: a dma-buf with writers still running holds the commit (implicit sync).
    void check_commit(Commit& commit);
    // Removes the wait; `apply`: its commit applies now (its writers finished).
    void end(ImplicitWait* wait, bool apply);

    Server& server_;
    wl_global* global_ = nullptr;
    uint32_t version_ = 0;
    std::vector<Format> formats_;
    std::optional<dev_t> main_device_;  // v4 only
    UniqueFd format_table_;             // v4 feedback: sealed memfd of {format, pad, modifier}
    size_t format_table_size_ = 0;
    std::list<std::unique_ptr<ImplicitWait>> waits_;
};

} // namespace syncway
