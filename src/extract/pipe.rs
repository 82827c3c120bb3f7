//! Decompression on its own thread: the inflater fills 1 MiB chunks while
//! the tar walk reads the previous ones, so a pass costs about as much wall
//! time as decompression alone. Buffers are recycled (no allocation per
//! chunk); dropping the reader stops the thread after at most one chunk.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

const CHUNK: usize = 1 << 20;
const DEPTH: usize = 4;

enum Msg {
    /// A buffer and how many of its bytes are data.
    Data(Vec<u8>, usize),
    Eof,
    Err(io::Error),
}

/// A `BufRead` over chunks produced by a decompression thread.
pub struct Piped {
    full: Option<Receiver<Msg>>,
    free: Option<SyncSender<Vec<u8>>>,
    cur: Vec<u8>,
    len: usize,
    pos: usize,
    done: bool,
    thread: Option<JoinHandle<()>>,
}

impl Piped {
    /// Start reading `inner` on a new thread.
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<Piped> {
        let (full_tx, full_rx) = sync_channel::<Msg>(DEPTH);
        let (free_tx, free_rx) = sync_channel::<Vec<u8>>(DEPTH + 2);
        for _ in 0..DEPTH + 1 {
            // Pre-filled pool; the channel has room for all of them.
            let _ = free_tx.send(vec![0; CHUNK]);
        }
        let thread = std::thread::Builder::new()
            .name("inflate".into())
            .spawn(move || {
                while let Ok(mut buf) = free_rx.recv() {
                    // Full capacity, no zeroing: a recycled buffer keeps its length.
                    if buf.len() < CHUNK {
                        buf.resize(CHUNK, 0);
                    }
                    let mut len = 0;
                    let msg = loop {
                        if len == buf.len() {
                            break None;
                        }
                        match inner.read(&mut buf[len..]) {
                            Ok(0) => break Some(Msg::Eof),
                            Ok(n) => len += n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => break Some(Msg::Err(e)),
                        }
                    };
                    if len > 0 && full_tx.send(Msg::Data(buf, len)).is_err() {
                        return;
                    }
                    if let Some(m) = msg {
                        let _ = full_tx.send(m);
                        return;
                    }
                }
            })?;
        Ok(Piped {
            full: Some(full_rx),
            free: Some(free_tx),
            cur: Vec::new(),
            len: 0,
            pos: 0,
            done: false,
            thread: Some(thread),
        })
    }
}

impl BufRead for Piped {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.len && !self.done {
            let Some(full) = &self.full else {
                self.done = true;
                break;
            };
            match full.recv() {
                Ok(Msg::Data(next, len)) => {
                    let old = std::mem::replace(&mut self.cur, next);
                    self.pos = 0;
                    self.len = len;
                    if old.capacity() > 0
                        && let Some(free) = &self.free
                    {
                        let _ = free.try_send(old);
                    }
                }
                Ok(Msg::Eof) => self.done = true,
                Ok(Msg::Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(io::Error::other("decompression thread stopped"));
                }
            }
        }
        Ok(&self.cur[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

impl Read for Piped {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        // Closing both channels unblocks the thread wherever it waits.
        self.full = None;
        self.free = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
