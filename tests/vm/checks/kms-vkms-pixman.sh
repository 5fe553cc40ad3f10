# syncway on vkms's KMS with the pixman renderer (checks: see guest/kms.sh), with fault injection.
. "$VM_LIB"
. "$VM_SOURCE_ROOT/tests/vm/guest/kms.sh"
# --output 800x600@50: vkms lists 800x600 at 56.25 and 60.32 Hz; the closest is 56.25 (output-mode).
KMS_OUTPUT_CHECK="800x600@50 800x600 56." kms_checks vkms pixman fault
