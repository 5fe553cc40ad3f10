# The guest's DRM cards by driver name: vgem (no KMS), vkms and virtio-gpu (KMS, cursor plane).
exec "$BUILD_ROOT/tests/vm/vm-kernel-probe" drm-cards vgem,vkms,virtio_gpu
