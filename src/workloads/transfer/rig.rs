//! A rig's links: every card's host link alone, then all at once (as
//! nvbandwidth's host_to_all; x1 risers often share one switch or chipset
//! link), and card to card through host memory (stock drivers disable
//! peer-to-peer, so that is the path). Every transfer is checked.

use std::sync::Barrier;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::link::random_bytes;
use crate::gpu::Gpu;

/// One card's link, measured alone or with every other card busy.
#[derive(Clone, Debug, Serialize)]
pub struct LinkRate {
    pub adapter_index: usize,
    pub upload_bs: f64,
    pub download_bs: f64,
    pub verified: bool,
    pub problems: Vec<String>,
}

/// A copy from one card to another through host memory.
#[derive(Clone, Debug, Serialize)]
pub struct CardToCard {
    pub from: usize,
    pub to: usize,
    pub bytes_per_s: f64,
    pub verified: bool,
}

struct Card<'g> {
    gpu: &'g Gpu,
    dev: wgpu::Buffer,
    /// Where data from another card arrives, so `dev` keeps this card's own.
    inbox: wgpu::Buffer,
    data: Vec<u8>,
}

fn card<'g>(gpu: &'g Gpu, bytes: u64, seed: u64) -> Result<Card<'g>> {
    let usage =
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC;
    let dev = gpu.buffer("rig link", bytes, usage)?;
    let inbox = gpu.buffer("rig inbox", bytes, usage)?;
    Ok(Card {
        gpu,
        dev,
        inbox,
        data: random_bytes(bytes as usize, seed),
    })
}

fn upload(c: &Card, data: &[u8]) -> Result<()> {
    upload_to(c, &c.dev, data)
}

fn upload_to(c: &Card, buf: &wgpu::Buffer, data: &[u8]) -> Result<()> {
    c.gpu.queue.write_buffer(buf, 0, data);
    c.gpu.queue.submit([]);
    c.gpu.wait()?;
    c.gpu.check_errors("uploading")
}

/// `reps` uploads then `reps` downloads, each waited for; the last upload
/// and every download compared with what was sent.
fn measure_card(c: &Card, index: usize, reps: u32, start: Option<&Barrier>) -> Result<LinkRate> {
    let n = c.data.len() as u64;
    let mut problems = Vec::new();
    if let Some(b) = start {
        b.wait();
    }
    let t0 = Instant::now();
    for r in 0..reps {
        // A different rotation each time, so a stale buffer cannot pass.
        let k = (r as usize * 4) % c.data.len();
        let mut d = c.data[k..].to_vec();
        d.extend_from_slice(&c.data[..k]);
        upload(c, &d)?;
    }
    let up_s = t0.elapsed().as_secs_f64();
    let last = ((reps - 1) as usize * 4) % c.data.len();
    let t1 = Instant::now();
    let mut got = Vec::new();
    for _ in 0..reps {
        got = c.gpu.read(&c.dev, 0, n)?;
    }
    let down_s = t1.elapsed().as_secs_f64();
    let want: Vec<u8> = c.data[last..]
        .iter()
        .chain(&c.data[..last])
        .copied()
        .collect();
    if got != want {
        problems.push(format!(
            "adapter {index}: the bytes read back differ from the last upload"
        ));
    }
    Ok(LinkRate {
        adapter_index: index,
        upload_bs: (n * reps as u64) as f64 / up_s,
        download_bs: (n * reps as u64) as f64 / down_s,
        verified: problems.is_empty(),
        problems,
    })
}

/// Every card alone, then all at once; `bytes` per transfer.
pub fn measure_links(
    gpus: &[&Gpu],
    bytes: u64,
    reps: u32,
) -> Result<(Vec<LinkRate>, Vec<LinkRate>)> {
    let cards: Vec<Card> = gpus
        .iter()
        .enumerate()
        .map(|(i, g)| card(g, bytes, 0x7269_6700 + i as u64))
        .collect::<Result<_>>()?;
    let alone: Vec<LinkRate> = cards
        .iter()
        .map(|c| measure_card(c, c.gpu.desc.index, reps, None))
        .collect::<Result<_>>()?;
    let barrier = Barrier::new(cards.len());
    let together: Vec<Result<LinkRate>> = std::thread::scope(|s| {
        let handles: Vec<_> = cards
            .iter()
            .map(|c| s.spawn(|| measure_card(c, c.gpu.desc.index, reps, Some(&barrier))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a link thread failed")))
            })
            .collect()
    });
    Ok((alone, together.into_iter().collect::<Result<_>>()?))
}

/// Each card to the next (a ring) through host memory: download, upload,
/// then the receiver's buffer compared with the sender's data.
pub fn card_to_card(gpus: &[&Gpu], bytes: u64) -> Result<Vec<CardToCard>> {
    let cards: Vec<Card> = gpus
        .iter()
        .enumerate()
        .map(|(i, g)| card(g, bytes, 0x6332_6300 + i as u64))
        .collect::<Result<_>>()?;
    for c in &cards {
        upload(c, &c.data)?;
    }
    let mut out = Vec::new();
    for i in 0..cards.len() {
        let (a, b) = (&cards[i], &cards[(i + 1) % cards.len()]);
        if std::ptr::eq(a, b) {
            continue;
        }
        let t0 = Instant::now();
        let staged = a.gpu.read(&a.dev, 0, bytes)?;
        upload_to(b, &b.inbox, &staged)?;
        let secs = t0.elapsed().as_secs_f64();
        let arrived = b.gpu.read(&b.inbox, 0, bytes)?;
        out.push(CardToCard {
            from: a.gpu.desc.index,
            to: b.gpu.desc.index,
            bytes_per_s: bytes as f64 / secs,
            verified: arrived == a.data,
        });
    }
    Ok(out)
}
