#include "vgem_buffer.hpp"

#include "ioctl_retry.hpp"
#include "probe.hpp"

#include <xf86drm.h>

namespace syncway::vm {

namespace {

struct VgemFenceAttach {
    uint32_t handle;
    uint32_t flags;
    uint32_t out_fence;
    uint32_t pad;
};
struct VgemFenceSignal {
    uint32_t fence;
    uint32_t flags;
};
constexpr uint32_t vgem_fence_write = 0x1;
constexpr unsigned long vgem_fence_attach_ioctl = DRM_IOWR(DRM_COMMAND_BASE + 0x1, VgemFenceAttach);
constexpr unsigned long vgem_fence_signal_ioctl = DRM_IOW(DRM_COMMAND_BASE + 0x2, VgemFenceSignal);

} // namespace

Result<VgemBuffer> VgemBuffer::create(uint32_t width, uint32_t height)
{
    auto buffer = DumbBuffer::create("vgem", width, height);
    if (!buffer)
        return buffer.error();
    return VgemBuffer(std::move(buffer.value()));
}

Result<uint32_t> VgemBuffer::attach_write_fence()
{
    VgemFenceAttach attach{buffer_.handle(), vgem_fence_write, 0, 0};
    if (ioctl_retry(buffer_.card(), vgem_fence_attach_ioctl, &attach) != 0)
        return sys_error("VGEM_FENCE_ATTACH");
    return attach.out_fence;
}

Status VgemBuffer::signal_fence(uint32_t fence)
{
    VgemFenceSignal sig{fence, 0};
    if (ioctl_retry(buffer_.card(), vgem_fence_signal_ioctl, &sig) != 0)
        return sys_error("VGEM_FENCE_SIGNAL");
    return Ok{};
}

} // namespace syncway::vm
