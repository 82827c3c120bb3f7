//! The inflate state control zlib's `examples/zran.c` needs and flate2 does
//! not expose: stopping at deflate block boundaries (`Z_BLOCK`, `data_type`),
//! reading the 32 KiB window (`inflateGetDictionary`), and starting a raw
//! inflate in the middle of a stream (`inflatePrime`, `inflateSetDictionary`).
//!
//! This is the only module of the crate with `unsafe`: a thin, safe wrapper
//! around `libz-rs-sys` (the zlib-rs implementation flate2 also uses). Every
//! pointer handed to zlib comes from a slice that outlives the call, and the
//! stream lives in a `Box` so that its address (which zlib-rs's state points
//! back to) never changes.

use libz_rs_sys as z;
use std::io;

/// Window bits for a raw deflate stream (no header, 32 KiB window).
pub(crate) const RAW: i32 = -15;
/// Window bits for a gzip stream (header and trailer checked).
pub(crate) const GZIP: i32 = 31;
/// The deflate window: at most this many bytes of history.
pub(crate) const WINDOW: usize = 32 * 1024;

/// How far one `inflate` call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flush {
    /// As far as input and output allow.
    None,
    /// Stop at the end of a gzip header or of a deflate block (`Z_BLOCK`).
    Block,
}

/// What one `inflate` call did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    /// Input bytes consumed.
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// The end of the deflate stream (and, for gzip, its checked trailer).
    pub end: bool,
    /// zlib's `data_type`: unused bits in the last consumed byte (`& 7`),
    /// `0x40` in the last block, `0x80` just after a block or a header.
    pub data_type: i32,
}

impl Step {
    /// Stopped at the end of a gzip header or of a non-last deflate block:
    /// a place where decompression can later be resumed (an access point).
    pub(crate) fn at_boundary(&self) -> bool {
        self.data_type & 0xc0 == 0x80
    }

    /// Unused bits in the last consumed input byte.
    pub(crate) fn bits(&self) -> u8 {
        (self.data_type & 7) as u8
    }
}

/// An inflate stream.
pub(crate) struct Inflater {
    strm: Box<z::z_stream>,
}

fn error(what: &str, code: i32, msg: *const std::ffi::c_char) -> io::Error {
    let detail = if msg.is_null() {
        String::new()
    } else {
        // SAFETY: zlib sets `msg` to null or to a static NUL-terminated
        // string; it was checked for null above.
        let s = unsafe { std::ffi::CStr::from_ptr(msg) };
        format!(": {}", s.to_string_lossy())
    };
    let kind = if code == z::Z_DATA_ERROR {
        io::ErrorKind::InvalidData
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, format!("{what} failed (zlib code {code}){detail}"))
}

impl Inflater {
    /// A new stream: `RAW` or `GZIP` window bits.
    pub(crate) fn new(window_bits: i32) -> io::Result<Inflater> {
        let mut strm = Box::new(z::z_stream::default());
        // SAFETY: `strm` is a default-initialised z_stream (null buffers,
        // default allocator) at a stable heap address; the version string and
        // struct size are the library's own.
        let ret = unsafe {
            z::inflateInit2_(
                &mut *strm,
                window_bits,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as i32,
            )
        };
        if ret != z::Z_OK {
            return Err(error("inflateInit2", ret, strm.msg));
        }
        Ok(Inflater { strm })
    }

    /// Start a new stream with these window bits, keeping the allocation.
    pub(crate) fn reset(&mut self, window_bits: i32) -> io::Result<()> {
        // SAFETY: the stream was initialised by `new` and not ended.
        let ret = unsafe { z::inflateReset2(&mut *self.strm, window_bits) };
        if ret != z::Z_OK {
            return Err(error("inflateReset2", ret, self.strm.msg));
        }
        Ok(())
    }

    /// Insert the `bits` (1 to 7) high bits of `byte` before the next input
    /// (resuming at a bit offset, raw streams only).
    pub(crate) fn prime(&mut self, bits: u8, byte: u8) -> io::Result<()> {
        if bits == 0 {
            return Ok(());
        }
        let value = i32::from(byte) >> (8 - i32::from(bits.min(8)));
        // SAFETY: initialised stream; `bits` ≤ 8 fits zlib's 16-bit limit.
        let ret = unsafe { z::inflatePrime(&mut *self.strm, i32::from(bits.min(8)), value) };
        if ret != z::Z_OK {
            return Err(error("inflatePrime", ret, self.strm.msg));
        }
        Ok(())
    }

    /// Set the history a raw stream resumed mid-way refers back to.
    pub(crate) fn set_dictionary(&mut self, dict: &[u8]) -> io::Result<()> {
        if dict.is_empty() {
            return Ok(());
        }
        let len = dict.len().min(WINDOW);
        let dict = &dict[dict.len() - len..];
        // SAFETY: initialised stream; `dict` is a live slice of `len` bytes
        // (≤ 32 KiB, fits a c_uint), only read by zlib during the call.
        let ret =
            unsafe { z::inflateSetDictionary(&mut *self.strm, dict.as_ptr(), len as z::uInt) };
        if ret != z::Z_OK {
            return Err(error("inflateSetDictionary", ret, self.strm.msg));
        }
        Ok(())
    }

    /// The current window (the last ≤ 32 KiB of output), into `out`;
    /// returns its length.
    pub(crate) fn dictionary(&self, out: &mut [u8; WINDOW]) -> usize {
        let mut len: z::uInt = 0;
        // SAFETY: initialised stream; `out` has room for the largest window
        // (32 KiB, the maximum zlib writes); `len` is a live local.
        let ret = unsafe { z::inflateGetDictionary(&*self.strm, out.as_mut_ptr(), &mut len) };
        if ret != z::Z_OK {
            return 0;
        }
        (len as usize).min(WINDOW)
    }

    /// One `inflate` call from `input` into `output`. A call that can make no
    /// progress (`Z_BUF_ERROR`) is not an error: it returns an empty step.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: Flush,
    ) -> io::Result<Step> {
        let avail_in = input.len().min(u32::MAX as usize);
        let avail_out = output.len().min(u32::MAX as usize);
        self.strm.next_in = input.as_ptr();
        self.strm.avail_in = avail_in as z::uInt;
        self.strm.next_out = output.as_mut_ptr();
        self.strm.avail_out = avail_out as z::uInt;
        let flush = match flush {
            Flush::None => z::Z_NO_FLUSH,
            Flush::Block => z::Z_BLOCK,
        };
        // SAFETY: initialised stream; next_in/avail_in and next_out/avail_out
        // describe the live slices `input` and `output`, borrowed for this
        // call only (the pointers are cleared below before they dangle).
        let ret = unsafe { z::inflate(&mut *self.strm, flush) };
        let consumed = avail_in - self.strm.avail_in as usize;
        let produced = avail_out - self.strm.avail_out as usize;
        self.strm.next_in = std::ptr::null();
        self.strm.avail_in = 0;
        self.strm.next_out = std::ptr::null_mut();
        self.strm.avail_out = 0;
        let step = Step {
            consumed,
            produced,
            end: ret == z::Z_STREAM_END,
            data_type: self.strm.data_type,
        };
        match ret {
            z::Z_OK | z::Z_STREAM_END | z::Z_BUF_ERROR => Ok(step),
            z::Z_NEED_DICT => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "corrupt compressed data: a preset dictionary is required",
            )),
            _ => Err(error("inflate", ret, self.strm.msg)),
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: initialised by `new`, ended exactly once, here.
        unsafe {
            z::inflateEnd(&mut *self.strm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Inflate `gz` with `Z_BLOCK`, remember a boundary mid-way, then resume
    /// a raw stream there and get the same bytes.
    #[test]
    fn resumes_at_a_block_boundary() {
        let data: Vec<u8> = (0..400_000u32)
            .flat_map(|i| format!("line {} {}\n", i, i % 97).into_bytes())
            .collect();
        let comp = gz(&data);
        let mut inf = Inflater::new(GZIP).unwrap();
        let mut out = vec![0u8; data.len() + 1];
        let (mut cin, mut cout) = (0, 0);
        let mut point = None;
        let mut window = [0u8; WINDOW];
        loop {
            let s = inf
                .inflate(&comp[cin..], &mut out[cout..], Flush::Block)
                .unwrap();
            cin += s.consumed;
            cout += s.produced;
            if s.end {
                break;
            }
            if s.at_boundary() && point.is_none() && cout > data.len() / 2 {
                let n = inf.dictionary(&mut window);
                point = Some((cin, s.bits(), cout, window[..n].to_vec()));
            }
        }
        assert_eq!(&out[..cout], &data[..]);
        let (pin, bits, pout, dict) = point.unwrap();
        let mut raw = Inflater::new(RAW).unwrap();
        let start = if bits > 0 {
            raw.prime(bits, comp[pin - 1]).unwrap();
            pin
        } else {
            pin
        };
        raw.set_dictionary(&dict).unwrap();
        let mut rest = vec![0u8; 1000];
        let s = raw.inflate(&comp[start..], &mut rest, Flush::None).unwrap();
        assert_eq!(&rest[..s.produced], &data[pout..pout + s.produced]);
        assert!(s.produced == 1000);
    }
}
