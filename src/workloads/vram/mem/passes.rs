//! The write and check passes as the harness records them, and the untimed
//! check and report reset around them.

use anyhow::Result;

use super::{pattern, Expect, TestMemory};

impl TestMemory<'_> {
    /// Records write passes `indices` over buffers 1.., each adding the step
    /// of its own index, then planting new canaries.
    pub fn encode_writes(&self, pass: &mut wgpu::ComputePass<'_>, reps: crate::harness::Reps) {
        for (r, index) in reps.slots() {
            let (m, a) = pattern::write_step(self.salt, index);
            for c in 1..self.chunks.len() {
                let slot = self.set_params(r, c, m, a, 0, index);
                self.dispatch(pass, &self.write, c, slot);
                let mut st = self.states.borrow_mut();
                st[c] = st[c].step(m, a);
            }
            self.plant(pass, r);
            self.passes.set(self.passes.get() + 1);
        }
    }

    /// Records check repetitions `indices` over every buffer, each after
    /// planting new canaries, each into its own report slot.
    pub fn encode_checks(&self, pass: &mut wgpu::ComputePass<'_>, reps: crate::harness::Reps) {
        for (r, index) in reps.slots() {
            self.plant(pass, r);
            self.check_now(pass, r, index);
        }
    }

    /// Records one check of what memory holds now into report slot `index`.
    fn check_now(&self, pass: &mut wgpu::ComputePass<'_>, r: u32, index: u64) {
        let states = self.states.borrow().clone();
        if index < self.report_slots as u64 {
            for (c, st) in states.iter().enumerate() {
                let slot = self.set_params(r, c, st.mul, st.add, index as u32, index);
                self.dispatch(pass, &self.check, c, slot);
            }
            self.expect.borrow_mut().insert(
                index as u32,
                Expect {
                    canaries: self.live.borrow().clone(),
                    states,
                    run: index,
                },
            );
        }
        self.runs.set(self.runs.get() + 1);
    }

    /// One untimed check of everything as it is (canaries unchanged), into
    /// report slot 0 of a fresh report.
    pub fn check_once(&self) -> Result<()> {
        self.reset_report()?;
        self.gpu
            .run_pass("checking VRAM", |pass| self.check_now(pass, 0, 0))?;
        Ok(())
    }

    /// Clears the report and what its slots must say.
    pub fn reset_report(&self) -> Result<()> {
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.report, 0, None);
        self.gpu.queue.submit([enc.finish()]);
        self.gpu.wait()?;
        self.expect.borrow_mut().clear();
        self.runs.set(0);
        Ok(())
    }
}
