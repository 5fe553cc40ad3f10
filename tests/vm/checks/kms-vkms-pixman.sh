# syncway on vkms's KMS with the pixman renderer (checks: see guest/kms.sh), with fault injection.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
kms_checks vkms pixman fault
