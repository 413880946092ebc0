//! Adapters (listing, selection) and the open device with the buffer
//! helpers every workload shares.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use wgpu::util::DeviceExt;

use crate::usage_bail;

mod adapters;
pub mod identity;
mod memory;
pub mod profile;

pub use adapters::{
    backend_name, normalize_bus_id, quiet_driver_environment, AdapterDesc, Adapters, BackendChoice,
    NO_ADAPTER_HELP,
};
pub use memory::host_available;

/// An open device on one adapter.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub desc: AdapterDesc,
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Gpu {
    pub fn open(adapter: &wgpu::Adapter, desc: &AdapterDesc) -> Result<Gpu> {
        let wanted = wgpu::Features::TIMESTAMP_QUERY
            | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS
            | wgpu::Features::SHADER_F16
            | wgpu::Features::SUBGROUP
            | wgpu::Features::SHADER_INT64
            | wgpu::Features::SHADER_F64;
        // Held to HASHFLOPS_PROFILE where one is set, as `desc` is.
        let offer = profile::Offer::of(adapter);
        profile::note_lost_subgroups(adapter, &offer);
        let features = offer.features & wanted;
        let limits = offer.limits;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("hashflops"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::default(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        // A driver failure, not the user's to fix by a different command:
        // exit 1.
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open a device on adapter {} ({}): {e}",
                desc.index,
                desc.name
            )
        })?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        // wgpu's default handler panics; keep the message and report it as an error instead.
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock().unwrap().push(e.to_string());
        }));
        Ok(Gpu {
            device,
            queue,
            desc: desc.clone(),
            features,
            limits,
            errors,
        })
    }

    pub fn has(&self, f: wgpu::Features) -> bool {
        self.features.contains(f)
    }

    /// Fails with the first device error recorded since the last call.
    pub fn check_errors(&self, what: &str) -> Result<()> {
        let mut errs = self.errors.lock().unwrap();
        if let Some(first) = errs.first().cloned() {
            errs.clear();
            anyhow::bail!("{what}: device error: {first}");
        }
        Ok(())
    }

    /// Compiles a WGSL compute shader into a pipeline with an automatic layout.
    /// Validation errors come back as errors, not panics.
    pub fn pipeline(
        &self,
        label: &str,
        wgsl: &str,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> Result<wgpu::ComputePipeline> {
        self.pipeline_with_layout(label, wgsl, entry, constants, None)
    }

    /// As [`Gpu::pipeline`], with an explicit layout (needed for dynamic offsets).
    pub fn pipeline_with_layout(
        &self,
        label: &str,
        wgsl: &str,
        entry: &str,
        constants: &[(&str, f64)],
        layout: Option<&wgpu::PipelineLayout>,
    ) -> Result<wgpu::ComputePipeline> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        if let Some(err) = pollster::block_on(scope.pop()) {
            anyhow::bail!("shader {label} ({entry}) did not compile: {err}");
        }
        Ok(pipeline)
    }

    /// A bind group layout whose binding `i` is a storage buffer described by
    /// `buffers[i]` = (read_only, dynamic_offset), and a pipeline layout
    /// holding it as group 0. Explicit layouts are needed for dynamic offsets
    /// and for one layout shared by several entry points.
    pub fn storage_layout(
        &self,
        label: &str,
        buffers: &[(bool, bool)],
    ) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
        let at: Vec<(u32, bool, bool)> = buffers
            .iter()
            .enumerate()
            .map(|(i, &(read_only, dynamic))| (i as u32, read_only, dynamic))
            .collect();
        self.storage_layout_at(label, &at)
    }

    /// As [`Gpu::storage_layout`], with the binding numbers given:
    /// `(binding, read_only, dynamic_offset)`.
    pub fn storage_layout_at(
        &self,
        label: &str,
        buffers: &[(u32, bool, bool)],
    ) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
        let entries: Vec<wgpu::BindGroupLayoutEntry> = buffers
            .iter()
            .map(
                |&(binding, read_only, dynamic)| wgpu::BindGroupLayoutEntry {
                    binding,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage { read_only },
                        has_dynamic_offset: dynamic,
                        min_binding_size: None,
                    },
                    count: None,
                },
            )
            .collect();
        let bgl = self
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(label),
                entries: &entries,
            });
        let layout = self
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(&bgl)],
                immediate_size: 0,
            });
        (bgl, layout)
    }

    /// A storage buffer holding `data`, also usable as a copy source/destination.
    pub fn storage_init(&self, label: &str, data: &[u8]) -> Result<wgpu::Buffer> {
        self.guard_oom(label, data.len() as u64, || {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: data,
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                })
        })
    }

    /// An uninitialised buffer with the given usage.
    pub fn buffer(
        &self,
        label: &str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer> {
        self.guard_oom(label, size, || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        })
    }

    fn guard_oom(
        &self,
        label: &str,
        size: u64,
        make: impl FnOnce() -> wgpu::Buffer,
    ) -> Result<wgpu::Buffer> {
        if size > self.limits.max_buffer_size {
            usage_bail!(
                "buffer {label} needs {} but adapter {} allows at most {} per buffer",
                crate::units::bytes(size as f64),
                self.desc.name,
                crate::units::bytes(self.limits.max_buffer_size as f64)
            );
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buf = make();
        if let Some(err) = pollster::block_on(scope.pop()) {
            usage_bail!(
                "out of GPU memory allocating {} for {label}: {err}; try a smaller --size or --quick",
                crate::units::bytes(size as f64)
            );
        }
        Ok(buf)
    }

    /// Records one compute pass with `encode`, submits it, waits for it and
    /// checks for device errors (`what` names the work in the error).
    /// Returns the wall seconds from submit to completion.
    pub fn run_pass(
        &self,
        what: &str,
        encode: impl FnOnce(&mut wgpu::ComputePass<'_>),
    ) -> Result<f64> {
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            encode(&mut pass);
        }
        let t0 = std::time::Instant::now();
        self.queue.submit([enc.finish()]);
        self.wait()?;
        let seconds = t0.elapsed().as_secs_f64();
        self.check_errors(what)?;
        Ok(seconds)
    }

    /// Waits for all submitted work.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .context("waiting for the GPU")?;
        Ok(())
    }

    /// Copies `size` bytes from `src` at `offset` back to the host.
    pub fn read(&self, src: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        let staging = self.buffer(
            "readback",
            size,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        )?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(src, offset, &staging, 0, size);
        self.queue.submit([enc.finish()]);
        let out = self.map_read(&staging, 0, size)?;
        self.check_errors("reading a buffer back")?;
        Ok(out)
    }

    /// Maps a MAP_READ buffer, copies the range out and unmaps it.
    pub fn map_read(&self, buf: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        self.map(buf, wgpu::MapMode::Read, offset..offset + size, None)?;
        let out = buf
            .get_mapped_range(offset..offset + size)
            .context("reading a mapped buffer")?
            .to_vec();
        buf.unmap();
        Ok(out)
    }

    /// The one way buffers are mapped: `map_async` answering through a
    /// oneshot channel, the device polled until submission `after` is done
    /// (all work when `None`, and all work if the buffer was used later).
    pub fn map(
        &self,
        buf: &wgpu::Buffer,
        mode: wgpu::MapMode,
        range: std::ops::Range<u64>,
        after: Option<wgpu::SubmissionIndex>,
    ) -> Result<()> {
        let (tx, rx) = futures_intrusive::channel::shared::oneshot_channel();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        buf.map_async(mode, range, move |r| {
            flag.store(true, std::sync::atomic::Ordering::Release);
            let _ = tx.send(r);
        });
        let poll = match after {
            Some(index) => wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            },
            None => wgpu::PollType::wait_indefinitely(),
        };
        self.device.poll(poll).context("waiting for the GPU")?;
        if !done.load(std::sync::atomic::Ordering::Acquire) {
            // The buffer took part in a later submission: wait for all.
            self.wait()?;
        }
        if !done.load(std::sync::atomic::Ordering::Acquire) {
            anyhow::bail!("buffer map never completed");
        }
        pollster::block_on(rx.receive())
            .context("buffer map never completed")?
            .context("mapping a buffer")
    }

    /// The workgroup size for a 1-D kernel that would like `want`
    /// invocations: the largest power of two no larger than `want` that
    /// the device's limits allow (tree reductions need a power of two).
    pub fn workgroup_1d(&self, want: u32) -> u32 {
        let most = want
            .min(self.limits.max_compute_invocations_per_workgroup)
            .min(self.limits.max_compute_workgroup_size_x)
            .max(1);
        1 << most.ilog2()
    }

    /// Splits a 1-D workgroup count over x and y so neither exceeds the
    /// adapter's per-dimension limit. x * y may exceed `groups`; kernels
    /// bound-check their index.
    pub fn dispatch_dims(&self, groups: u32) -> (u32, u32) {
        let max = self.limits.max_compute_workgroups_per_dimension.max(1);
        if groups <= max {
            (groups.max(1), 1)
        } else {
            (max, groups.div_ceil(max))
        }
    }
}
