//! The buffers every transfer goes through: a device buffer, two upload
//! (MAP_WRITE) buffers used in turn, and a download (MAP_READ) buffer.

use anyhow::{Context, Result};
use rand::{RngCore, SeedableRng};

use crate::gpu::Gpu;

/// Source offsets rotate over this many 4-byte words, so consecutive
/// transfers (and the last transfers of consecutive samples, which lie
/// fewer than this many transfers apart) carry different bytes: a buffer
/// left stale by a transfer that never happened holds data shifted from
/// what was expected. Prime, and above the most transfers per sample.
pub const SLACK_WORDS: u64 = 4099;
/// Bytes of rotation room beyond the largest transfer.
pub const SLACK: u64 = SLACK_WORDS * 4;

/// Queued `write_buffer` staging memory is bounded so a fast link cannot
/// pile up gigabytes of it inside one sample.
const MAX_QUEUED_BYTES: u64 = 64 << 20;

/// Random incompressible bytes.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

/// The source offset of transfer number `t`.
pub fn rotation(t: u64) -> u64 {
    4 * (t % SLACK_WORDS)
}

/// Where `got` first differs from `want` (a shorter `got` differs at its end).
pub fn first_difference(got: &[u8], want: &[u8]) -> Option<usize> {
    if got == want {
        return None;
    }
    Some(
        got.iter()
            .zip(want)
            .position(|(g, w)| g != w)
            .unwrap_or(got.len().min(want.len())),
    )
}

/// Maps `buf`, waiting only for submission `after` (the last one that used
/// it) where given, so later submissions keep running meanwhile.
pub fn map_after(
    gpu: &Gpu,
    buf: &wgpu::Buffer,
    mode: wgpu::MapMode,
    size: u64,
    after: Option<wgpu::SubmissionIndex>,
) -> Result<()> {
    gpu.map(buf, mode, 0..size, after)
}

/// A device buffer with its upload and download staging buffers. Transfers
/// move at most `capacity` bytes; the device buffer has [`SLACK`] more, so
/// downloads can start at a rotating offset.
pub struct Link<'g> {
    gpu: &'g Gpu,
    device: wgpu::Buffer,
    /// Two upload buffers in turn: the host fills one while the other's copy
    /// to the device is in flight.
    upload: [wgpu::Buffer; 2],
    upload_done: [Option<wgpu::SubmissionIndex>; 2],
    next_upload: usize,
    download: wgpu::Buffer,
    capacity: u64,
    queued: u64,
}

impl<'g> Link<'g> {
    pub fn new(gpu: &'g Gpu, capacity: u64) -> Result<Self> {
        use wgpu::BufferUsages as U;
        anyhow::ensure!(
            capacity.is_multiple_of(4) && capacity > 0,
            "transfer sizes are whole 4-byte words"
        );
        let upload = || gpu.buffer("transfer upload", capacity, U::MAP_WRITE | U::COPY_SRC);
        Ok(Link {
            gpu,
            device: gpu.buffer(
                "transfer device",
                capacity + SLACK,
                U::STORAGE | U::COPY_DST | U::COPY_SRC,
            )?,
            upload: [upload()?, upload()?],
            upload_done: [None, None],
            next_upload: 0,
            download: gpu.buffer("transfer download", capacity, U::MAP_READ | U::COPY_DST)?,
            capacity,
            queued: 0,
        })
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    fn check(&self, n: u64, room: u64) -> Result<()> {
        anyhow::ensure!(
            n > 0 && n.is_multiple_of(4) && n <= room,
            "transfer of {n} bytes: must be a whole number of 4-byte words, at most {room}"
        );
        Ok(())
    }

    /// Queues `data` to the start of the device buffer with
    /// `Queue::write_buffer`.
    pub fn h2d_write_buffer(&mut self, data: &[u8]) -> Result<()> {
        self.check(data.len() as u64, self.capacity + SLACK)?;
        self.gpu.queue.write_buffer(&self.device, 0, data);
        self.gpu.queue.submit([]);
        self.queued += data.len() as u64;
        if self.queued >= MAX_QUEUED_BYTES {
            self.finish()?;
        }
        Ok(())
    }

    /// Writes `data` into a mapped upload buffer and queues its copy to the
    /// start of the device buffer. Mapping waits only for that buffer's
    /// previous copy.
    pub fn h2d_staging(&mut self, data: &[u8]) -> Result<()> {
        let n = data.len() as u64;
        self.check(n, self.capacity)?;
        let i = self.next_upload;
        self.next_upload ^= 1;
        let buf = &self.upload[i];
        map_after(
            self.gpu,
            buf,
            wgpu::MapMode::Write,
            n,
            self.upload_done[i].take(),
        )?;
        buf.get_mapped_range_mut(0..n)
            .context("writing the mapped upload buffer")?
            .copy_from_slice(data);
        buf.unmap();
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buf, 0, &self.device, 0, n);
        self.upload_done[i] = Some(self.gpu.queue.submit([enc.finish()]));
        Ok(())
    }

    /// Copies `n` bytes of the device buffer from offset `from` into the
    /// download buffer (unless `copy` is false: a sabotaged transfer) and
    /// maps them: the host can read them in place with [`Link::mapped`]
    /// until [`Link::unmap`].
    pub fn d2h_map(&mut self, from: u64, n: u64, copy: bool) -> Result<()> {
        self.check(n, self.capacity)?;
        self.check(from + n, self.capacity + SLACK)?;
        if copy {
            let mut enc = self.gpu.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(&self.device, from, &self.download, 0, n);
            self.gpu.queue.submit([enc.finish()]);
        }
        map_after(self.gpu, &self.download, wgpu::MapMode::Read, n, None)
    }

    /// The first `n` bytes of the mapped download buffer.
    pub fn mapped(&self, n: u64) -> Result<wgpu::BufferView> {
        self.download
            .get_mapped_range(0..n)
            .context("reading the mapped download buffer")
    }

    pub fn unmap(&self) {
        self.download.unmap();
    }

    /// Waits for every queued transfer.
    pub fn finish(&mut self) -> Result<()> {
        self.gpu.wait()?;
        self.queued = 0;
        self.upload_done = [None, None];
        self.gpu.check_errors("transferring data")
    }

    /// Untimed: the first `n` bytes of the device buffer, read back through
    /// the download buffer and handed to `f`.
    pub fn with_device_bytes<T>(&mut self, n: u64, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        self.finish()?;
        self.d2h_map(0, n, true)?;
        let out = f(&self.mapped(n)?);
        self.unmap();
        Ok(out)
    }
}

/// Which paths delivered intact data in [`round_trip`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundTrip {
    pub h2d_write_buffer: bool,
    pub h2d_staging: bool,
    pub d2h: bool,
}

impl RoundTrip {
    pub fn ok(&self) -> bool {
        self.h2d_write_buffer && self.h2d_staging && self.d2h
    }
}

/// Sends `bytes` random bytes (a multiple of 4) up each way and back, and
/// compares what arrived with what was sent.
pub fn round_trip(gpu: &Gpu, bytes: u64) -> Result<RoundTrip> {
    let mut link = Link::new(gpu, bytes)?;
    let first = random_bytes(bytes as usize, 1);
    let second = random_bytes(bytes as usize, 2);
    link.h2d_write_buffer(&first)?;
    let h2d_write_buffer = link.with_device_bytes(bytes, |got| got == first)?;
    link.h2d_staging(&second)?;
    let h2d_staging = link.with_device_bytes(bytes, |got| got == second)?;
    // The download buffer still holds `second` from that check: the
    // download proper fetches fresh bytes.
    let third = random_bytes(bytes as usize, 3);
    link.h2d_write_buffer(&third)?;
    link.finish()?;
    link.d2h_map(0, bytes, true)?;
    let d2h = *link.mapped(bytes)? == *third;
    link.unmap();
    Ok(RoundTrip {
        h2d_write_buffer,
        h2d_staging,
        d2h,
    })
}
