#include "dumb_buffer.hpp"

#include "drm_card.hpp"
#include "ioctl_retry.hpp"
#include "probe.hpp"

#include <fcntl.h>
#include <xf86drm.h>

#include <algorithm>

namespace syncway::vm {

Result<DumbBuffer> DumbBuffer::create(const std::string& driver, uint32_t width, uint32_t height)
{
    auto cards = list_drm_cards();
    if (!cards)
        return cards.error();
    auto card = std::find_if(cards->begin(), cards->end(), [&](auto& c) { return c.driver == driver; });
    if (card == cards->end())
        return make_error(ENODEV, "no " + driver + " card in /dev/dri");
    DumbBuffer buf;
    buf.card_.reset(::open(card->node.c_str(), O_RDWR | O_CLOEXEC));
    if (!buf.card_)
        return sys_error("open " + card->node);
    drm_mode_create_dumb dumb{};
    dumb.width = width;
    dumb.height = height;
    dumb.bpp = 32;
    if (ioctl_retry(buf.card_.get(), DRM_IOCTL_MODE_CREATE_DUMB, &dumb) != 0)
        return sys_error("DRM_IOCTL_MODE_CREATE_DUMB on " + driver + " (" + card->node + ")");
    buf.handle_ = dumb.handle;
    buf.stride_ = dumb.pitch;
    buf.size_ = dumb.size;
    int fd = -1;
    if (drmPrimeHandleToFD(buf.card_.get(), buf.handle_, DRM_CLOEXEC | DRM_RDWR, &fd) != 0)
        return sys_error("PRIME export of the " + driver + " dumb buffer");
    buf.dmabuf_.reset(fd);
    return buf;
}

} // namespace syncway::vm
