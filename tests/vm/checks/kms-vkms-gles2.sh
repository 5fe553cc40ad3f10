# syncway on vkms's KMS with the gles2 renderer (checks: see guest/kms.sh).
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
kms_checks vkms gles2
