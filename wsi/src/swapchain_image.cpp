#include "swapchain_image.hpp"

#include "dmabuf_buffer.hpp"
#include "log.hpp"

#include "linux-drm-syncobj-v1-client-protocol.h"

#include <syncway/heaps/allocator.hpp>
#include <syncway/heaps/buffer_layout.hpp>

#include <cstring>

namespace syncway::wsi {

namespace {

VkDeviceSize align_up(VkDeviceSize value, VkDeviceSize alignment)
{
    return alignment ? (value + alignment - 1) / alignment * alignment : value;
}

// The memory type to import host memory as. The driver names the types a host pointer can be
// imported as (vkGetMemoryHostPointerPropertiesEXT); Mesa 22.3's lavapipe answers with no type
// at all yet imports into its one (host-visible) type, so when the driver names none, a
// host-visible type the image accepts is used.
int memory_type(Device& device, void* pointer, uint32_t image_types)
{
    VkMemoryHostPointerPropertiesEXT host{VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT};
    uint32_t types = image_types;
    if (device.vk.GetMemoryHostPointerPropertiesEXT(device.handle, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
                                                    pointer, &host) == VK_SUCCESS &&
        host.memoryTypeBits != 0)
        types &= host.memoryTypeBits;
    const auto& memory = device.support.memory;
    for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
        if ((types & (1u << i)) && (memory.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
            return int(i);
    return -1;
}

} // namespace

VkResult SwapchainImage::create(Device& device, WaylandConnection& connection, const ImageParams& params,
                                std::unique_ptr<SwapchainImage>* out, std::string* error, std::string* note)
{
    std::unique_ptr<SwapchainImage> self(new SwapchainImage(device, connection));
    self->width_ = params.extent.width;
    self->height_ = params.extent.height;
    auto& vk = device.vk;

    VkExternalMemoryImageCreateInfo external{VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO};
    external.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
    VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    info.pNext = &external;
    info.flags = params.flags;
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = params.format;
    info.extent = {params.extent.width, params.extent.height, 1};
    info.mipLevels = 1;
    info.arrayLayers = 1;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    // LINEAR: the compositor reads the rows where the device writes them, no copy between.
    info.tiling = VK_IMAGE_TILING_LINEAR;
    info.usage = params.usage;
    info.sharingMode = params.sharing;
    info.queueFamilyIndexCount = params.sharing == VK_SHARING_MODE_CONCURRENT ? params.queue_family_count : 0;
    info.pQueueFamilyIndices = params.sharing == VK_SHARING_MODE_CONCURRENT ? params.queue_families : nullptr;
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VkResult r = vk.CreateImage(device.handle, &info, nullptr, &self->image_);
    if (r != VK_SUCCESS) {
        *error = "vkCreateImage of a LINEAR " + std::to_string(params.extent.width) + "x" +
                 std::to_string(params.extent.height) + " image failed (" + std::to_string(r) + ")";
        return r;
    }
    VkMemoryRequirements reqs{};
    vk.GetImageMemoryRequirements(device.handle, self->image_, &reqs);
    VkImageSubresource sub{VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
    VkSubresourceLayout layout{};
    vk.GetImageSubresourceLayout(device.handle, self->image_, &sub, &layout);
    // wl_shm takes an int32 stride, offset and size (linux-dmabuf uint32: the same bound does).
    if (layout.rowPitch > INT32_MAX || layout.offset > INT32_MAX || reqs.size > INT32_MAX ||
        layout.rowPitch < VkDeviceSize(params.extent.width) * 4) {
        *error = "the driver's layout for the image (row pitch " + std::to_string(layout.rowPitch) + ", size " +
                 std::to_string(reqs.size) + ") cannot be shared as a wl_shm buffer";
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    // The host pointer and the imported size must be multiples of the device's import
    // alignment; a mapping starts on a page, and the size is rounded up to both.
    const VkDeviceSize alignment = std::max<VkDeviceSize>(device.support.host_pointer_alignment, heaps::page_size());
    const VkDeviceSize size = align_up(reqs.size, alignment);

    heaps::AllocationRequest request;
    request.size = size;
    request.debug_name = "vk-swapchain";
    // The dma-buf path takes what heaps/ finds first (a heap, udmabuf, and a memfd if both
    // fail for this buffer); wl_shm needs a memfd.
    request.backend = params.path == ImageSharing::Dmabuf ? heaps::BackendChoice::Auto : heaps::BackendChoice::Memfd;
    auto buffer = heaps::Allocator().allocate(request);
    if (!buffer) {
        *error = "allocating " + std::to_string(size) + " bytes of shared memory failed: " + buffer.error().message;
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    auto mapping = buffer->map();
    if (!mapping) {
        *error = "mapping the swapchain image's memory failed: " + mapping.error().message;
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    self->mapping_ = std::move(mapping.value());

    int type = memory_type(device, self->mapping_.data(), reqs.memoryTypeBits);
    if (type < 0) {
        *error = "no host-visible memory type accepts the image (types 0x" + std::to_string(reqs.memoryTypeBits) + ")";
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    VkImportMemoryHostPointerInfoEXT import{VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT};
    import.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
    import.pHostPointer = self->mapping_.data();
    VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    alloc.pNext = &import;
    alloc.allocationSize = size;
    alloc.memoryTypeIndex = uint32_t(type);
    if ((r = vk.AllocateMemory(device.handle, &alloc, nullptr, &self->memory_)) != VK_SUCCESS) {
        *error = "importing the image's shared memory (" + std::to_string(size) + " bytes) failed (" +
                 std::to_string(r) + ")";
        return r;
    }
    if ((r = vk.BindImageMemory(device.handle, self->image_, self->memory_, 0)) != VK_SUCCESS) {
        *error = "binding the image's memory failed (" + std::to_string(r) + ")";
        return r;
    }
    VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if ((r = vk.CreateFence(device.handle, &fence_info, nullptr, &self->fence_)) != VK_SUCCESS) {
        *error = "vkCreateFence failed (" + std::to_string(r) + ")";
        return r;
    }

    if (buffer->is_dmabuf()) {
        DmabufPlane plane{buffer->fd.get(), uint32_t(layout.offset), uint32_t(layout.rowPitch)};
        bool lost = false;
        self->buffer_ = create_dmabuf_buffer(connection, plane, params.extent.width, params.extent.height,
                                             drm_format_of_shm(params.shm_format), error, &lost);
        if (!self->buffer_)
            return lost ? VK_ERROR_SURFACE_LOST_KHR : VK_ERROR_FORMAT_NOT_SUPPORTED;
    } else {
        if (params.path == ImageSharing::Dmabuf)
            *note = "heaps/ gave a memfd, shared through wl_shm: " + buffer->fallback_reason;
        wl_shm_pool* pool = wl_shm_create_pool(connection.shm(), buffer->fd.get(), int32_t(size));
        self->buffer_ = wl_shm_pool_create_buffer(pool, int32_t(layout.offset), int32_t(params.extent.width),
                                                  int32_t(params.extent.height), int32_t(layout.rowPitch),
                                                  params.shm_format);
        wl_shm_pool_destroy(pool);
    }
    // The buffer's wl_buffer.release is not listened to: with a syncobj surface the release
    // point says when the compositor is done with it.

    int s = syncobj_create(connection.timelines(), 0, &self->release_fd_);
    if (s < 0) {
        self->release_fd_ = -1;
        *error = std::string("creating a release timeline failed: ") + std::strerror(-s) + " (" + syncobj_last_error() + ")";
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    self->release_timeline_ =
        wp_linux_drm_syncobj_manager_v1_import_timeline(connection.syncobj_manager(), self->release_fd_);
    *out = std::move(self);
    return VK_SUCCESS;
}

SwapchainImage::~SwapchainImage()
{
    if (release_timeline_)
        wp_linux_drm_syncobj_timeline_v1_destroy(release_timeline_);
    if (release_fd_ >= 0)
        syncobj_fd_close(connection_.timelines(), release_fd_);
    if (buffer_)
        wl_buffer_destroy(buffer_);
    auto& vk = device_.vk;
    if (fence_)
        vk.DestroyFence(device_.handle, fence_, nullptr);
    if (image_)
        vk.DestroyImage(device_.handle, image_, nullptr);
    if (memory_)
        vk.FreeMemory(device_.handle, memory_, nullptr);
    // mapping_ unmaps after the memory that imported it is freed (member order).
}

} // namespace syncway::wsi
