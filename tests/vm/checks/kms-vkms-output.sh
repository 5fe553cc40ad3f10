# syncway --output on vkms's KMS with the pixman renderer (checks: see kms_output_checks in guest/kms.sh).
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
kms_output_checks
