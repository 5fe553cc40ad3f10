#include "vgem_buffer.hpp"

#include "drm_card.hpp"
#include "ioctl_retry.hpp"
#include "probe.hpp"

#include <fcntl.h>
#include <xf86drm.h>

#include <algorithm>

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
    auto cards = list_drm_cards();
    if (!cards)
        return cards.error();
    auto card = std::find_if(cards->begin(), cards->end(), [](auto& c) { return c.driver == "vgem"; });
    if (card == cards->end())
        return make_error(ENODEV, "no vgem card in /dev/dri");
    VgemBuffer buf;
    buf.card_.reset(::open(card->node.c_str(), O_RDWR | O_CLOEXEC));
    if (!buf.card_)
        return sys_error("open " + card->node);
    drm_mode_create_dumb dumb{};
    dumb.width = width;
    dumb.height = height;
    dumb.bpp = 32;
    if (ioctl_retry(buf.card_.get(), DRM_IOCTL_MODE_CREATE_DUMB, &dumb) != 0)
        return sys_error("DRM_IOCTL_MODE_CREATE_DUMB on vgem");
    buf.handle_ = dumb.handle;
    buf.stride_ = dumb.pitch;
    buf.size_ = dumb.size;
    int fd = -1;
    if (drmPrimeHandleToFD(buf.card_.get(), buf.handle_, DRM_CLOEXEC | DRM_RDWR, &fd) != 0)
        return sys_error("PRIME export of the vgem buffer");
    buf.dmabuf_.reset(fd);
    return buf;
}

Result<uint32_t> VgemBuffer::attach_write_fence()
{
    VgemFenceAttach attach{handle_, vgem_fence_write, 0, 0};
    if (ioctl_retry(card_.get(), vgem_fence_attach_ioctl, &attach) != 0)
        return sys_error("VGEM_FENCE_ATTACH");
    return attach.out_fence;
}

Status VgemBuffer::signal_fence(uint32_t fence)
{
    VgemFenceSignal sig{fence, 0};
    if (ioctl_retry(card_.get(), vgem_fence_signal_ioctl, &sig) != 0)
        return sys_error("VGEM_FENCE_SIGNAL");
    return Ok{};
}

} // namespace syncway::vm
