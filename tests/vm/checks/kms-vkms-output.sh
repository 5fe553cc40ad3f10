# syncway --output on vkms's KMS with a size vkms does not list: a custom mode (see
# kms_output_checks in guest/kms.sh; the listed-mode case runs in kms-vkms-pixman).
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
kms_output_checks
