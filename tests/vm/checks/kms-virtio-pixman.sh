# syncway on virtio_gpu's KMS with the pixman renderer (checks: see guest/kms.sh).
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
kms_checks virtio_gpu pixman
