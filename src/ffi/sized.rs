//! The sized-struct I/O: every caller struct starts with its `struct_size`; these read an input
//! struct (a tail this library does not know must be zero) and write an output one (never past
//! its `struct_size`). Each entry point reads its arguments through the same few helpers: `Out`
//! for an output struct, `read_sized` or `read_optional` for an input one, `reply_bytes` for
//! the caller's buffer.

use core::mem::size_of;
use core::ptr;

use super::smtp_result;
use super::smtp_verdict_status::{self, *};

/// Copies the first `min(struct_size, sizeof(T))` bytes of a caller's struct into a default
/// one, after checking the pointer and `struct_size`. Nothing past `struct_size` is read.
///
/// # Safety
/// `src` is NULL or points to a readable `T`-sized struct whose first field is a `u32`.
pub(super) unsafe fn read_sized<T: Copy + Default>(
    src: *const T,
    min_size: u32,
) -> Result<T, smtp_verdict_status> {
    if src.is_null() {
        return Err(SMTP_STATUS_NULL_ARGUMENT);
    }
    if !src.is_aligned() {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    // SAFETY: the caller promises a readable struct whose first field is its u32 size.
    let size = unsafe { ptr::read(src.cast::<u32>()) };
    if size < min_size {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    if size as usize >= size_of::<T>() {
        // SAFETY: `size` bytes are readable by the caller's `struct_size`.
        if !unsafe { tail_is_zero(src.cast::<u8>(), size_of::<T>(), size as usize) } {
            return Err(SMTP_STATUS_INVALID_ARGUMENT);
        }
        // SAFETY: the whole struct is readable by its `struct_size`; T is plain integers.
        // (One read, not a byte copy: this is every call made with the current header.)
        return Ok(unsafe { ptr::read(src) });
    }
    let mut value = T::default();
    // SAFETY: `size` bytes are readable by the caller's `struct_size`; T is plain integers.
    unsafe {
        ptr::copy_nonoverlapping(
            src.cast::<u8>(),
            (&raw mut value).cast::<u8>(),
            size as usize,
        )
    };
    Ok(value)
}

/// True if the bytes `known..size` of a caller's input struct are all zero: the fields of a
/// newer header than this library knows. One that is set would be ignored, so the call is
/// refused instead (as blazesym does).
///
/// # Safety
/// `src` has `size` readable bytes.
unsafe fn tail_is_zero(src: *const u8, known: usize, size: usize) -> bool {
    if size <= known {
        return true;
    }
    // SAFETY: as the caller promises.
    let tail = unsafe { core::slice::from_raw_parts(src.add(known), size - known) };
    tail.iter().all(|&b| b == 0)
}

/// Checks a caller's output struct and returns how many of its bytes may be written.
///
/// # Safety
/// `dst` is NULL or points to a readable struct whose first field is a `u32`.
pub(super) unsafe fn writable_size<T>(
    dst: *mut T,
    min_size: u32,
) -> Result<usize, smtp_verdict_status> {
    if dst.is_null() {
        return Err(SMTP_STATUS_NULL_ARGUMENT);
    }
    if !dst.is_aligned() {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    // SAFETY: as the caller promises.
    let size = unsafe { ptr::read(dst.cast::<u32>()) };
    if size < min_size {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    Ok((size as usize).min(size_of::<T>()))
}

/// Writes `value` past its `struct_size` field into `len` bytes of `dst`.
///
/// # Safety
/// `len` came from `writable_size(dst)`.
pub(super) unsafe fn write_sized<T>(dst: *mut T, value: &T, len: usize) {
    let skip = size_of::<u32>();
    // SAFETY: `dst` has `len` writable bytes; the caller's struct_size field is kept.
    unsafe {
        ptr::copy_nonoverlapping(
            ptr::from_ref(value).cast::<u8>().add(skip),
            dst.cast::<u8>().add(skip),
            len - skip,
        )
    };
}

/// Writes `value` into the caller's result, `struct_size` excepted, as `write_sized` does.
/// When the caller's struct is the size this library knows (nearly always), field by field:
/// a byte copy of a struct just built on the stack waits for its stores to retire (a store
/// forwarding stall, as long as a short reply's parse).
///
/// # Safety
/// `len` came from `writable_size(dst)`.
pub(super) unsafe fn write_result(dst: *mut smtp_result, value: &smtp_result, len: usize) {
    if len != size_of::<smtp_result>() {
        // SAFETY: as promised by the caller.
        return unsafe { write_sized(dst, value, len) };
    }
    // Naming every field: a field added to the struct and not written here fails to compile.
    let smtp_result {
        struct_size: _,
        verdict,
        scope,
        code,
        enhanced_class,
        enhanced_subject,
        enhanced_detail,
        flags,
        lines,
        batch_size,
        consumed,
        text_offset,
        text_len,
    } = *value;
    // SAFETY: `dst` is a whole writable smtp_result.
    unsafe {
        (&raw mut (*dst).verdict).write(verdict);
        (&raw mut (*dst).scope).write(scope);
        (&raw mut (*dst).code).write(code);
        (&raw mut (*dst).enhanced_class).write(enhanced_class);
        (&raw mut (*dst).enhanced_subject).write(enhanced_subject);
        (&raw mut (*dst).enhanced_detail).write(enhanced_detail);
        (&raw mut (*dst).flags).write(flags);
        (&raw mut (*dst).lines).write(lines);
        (&raw mut (*dst).batch_size).write(batch_size);
        (&raw mut (*dst).consumed).write(consumed);
        (&raw mut (*dst).text_offset).write(text_offset);
        (&raw mut (*dst).text_len).write(text_len);
    }
}

/// An output struct the library writes: `smtp_result` field by field (`write_result`), the
/// others with `write_sized`.
pub(super) trait Store: Sized {
    /// Writes `value` into `len` bytes of `dst`, `struct_size` excepted.
    ///
    /// # Safety
    /// `len` came from `writable_size(dst)`.
    #[inline(always)]
    unsafe fn store(dst: *mut Self, value: &Self, len: usize) {
        // SAFETY: as the caller promises.
        unsafe { write_sized(dst, value, len) }
    }
}

impl Store for smtp_result {
    #[inline(always)]
    unsafe fn store(dst: *mut Self, value: &Self, len: usize) {
        // SAFETY: as the caller promises.
        unsafe { write_result(dst, value, len) }
    }
}

/// A caller's output struct that passed `writable_size`: every answer of an entry point is
/// written through `finish`, so none writes past `struct_size` or forgets the struct.
pub(super) struct Out<T: Store> {
    dst: *mut T,
    len: usize,
}

impl<T: Store> Out<T> {
    /// Checks `dst` as `writable_size` does.
    ///
    /// # Safety
    /// `dst` is NULL or points to a writable struct at least as large as its `struct_size`
    /// says, whose first field is a `u32`, and stays so while the `Out` lives.
    #[inline(always)]
    pub(super) unsafe fn new(dst: *mut T, min_size: u32) -> Result<Self, smtp_verdict_status> {
        // SAFETY: as the caller promises.
        let len = unsafe { writable_size(dst, min_size) }?;
        Ok(Self { dst, len })
    }

    /// As `new`, but NULL is `None`: an output the caller may leave out.
    ///
    /// # Safety
    /// As for `new`.
    #[inline(always)]
    pub(super) unsafe fn optional(
        dst: *mut T,
        min_size: u32,
    ) -> Result<Option<Self>, smtp_verdict_status> {
        if dst.is_null() {
            return Ok(None);
        }
        // SAFETY: as the caller promises.
        unsafe { Self::new(dst, min_size) }.map(Some)
    }

    /// Writes `value` (its `struct_size` field aside) and returns `status`.
    #[inline(always)]
    pub(super) fn finish(&self, status: smtp_verdict_status, value: &T) -> smtp_verdict_status {
        // SAFETY: `len` came from writable_size(dst), which `new`'s caller keeps valid.
        unsafe { T::store(self.dst, value, self.len) };
        status
    }
}

/// The answer to a panic inside an entry point: `value` written to `dst` when it is usable (a
/// reused struct must not keep the last call's answer), and `SMTP_STATUS_PANIC`.
///
/// # Safety
/// As for `Out::new`.
#[cold]
pub(super) unsafe fn panic_answer<T: Store>(
    dst: *mut T,
    min_size: u32,
    value: &T,
) -> smtp_verdict_status {
    // SAFETY: as the caller promises.
    match unsafe { Out::new(dst, min_size) } {
        Ok(out) => out.finish(SMTP_STATUS_PANIC, value),
        Err(_) => SMTP_STATUS_PANIC,
    }
}

/// Reads a caller's input struct as `read_sized` does, but NULL is `None`: an input the caller
/// may leave out (for the defaults).
///
/// # Safety
/// As for `read_sized`.
#[inline(always)]
pub(super) unsafe fn read_optional<T: Copy + Default>(
    src: *const T,
    min_size: u32,
) -> Result<Option<T>, smtp_verdict_status> {
    if src.is_null() {
        return Ok(None);
    }
    // SAFETY: as the caller promises.
    unsafe { read_sized(src, min_size) }.map(Some)
}

/// The caller's buffer `data[0..len)` as a slice, cut at `MAX_REPLY_LEN`: no reply is read
/// past that, so neither is the buffer. NULL with `len` 0 is an empty buffer; NULL with more
/// is `SMTP_STATUS_NULL_ARGUMENT`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive `'a`.
#[inline(always)]
pub(super) unsafe fn reply_bytes<'a>(
    data: *const u8,
    len: usize,
) -> Result<&'a [u8], smtp_verdict_status> {
    if data.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(SMTP_STATUS_NULL_ARGUMENT)
        };
    }
    let len = len.min(crate::MAX_REPLY_LEN);
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: the caller promises `len` readable bytes at `data`, which is not NULL.
    Ok(unsafe { core::slice::from_raw_parts(data, len) })
}
