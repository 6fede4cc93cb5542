/// A random 128-bit identifier as 32 lowercase hex digits.
pub fn new_id() -> String {
    crossfed_random::hex::<16>()
}
