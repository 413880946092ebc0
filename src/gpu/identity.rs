//! An adapter's stable identity: its PCI bus id and, on Vulkan, the
//! device UUID. Indices change when cards are added or drivers change;
//! these do not, so rows from different runs and hosts can be matched.

use super::adapters::normalize_bus_id;

/// The PCI bus id wgpu reports, normalized (`0000:01:00.0`); empty when
/// the adapter has none (software adapters, most GL drivers) or reports
/// something that is not one.
pub fn bus_id(reported: &str) -> String {
    normalize_bus_id(reported).unwrap_or_default()
}

/// `VkPhysicalDeviceIDProperties::deviceUUID` as a lowercase 8-4-4-4-12
/// UUID; empty on other APIs, or when the driver offers no way to ask.
/// wgpu's `AdapterInfo` does not carry it, so it is read through the HAL.
#[cfg(any(target_os = "linux", target_os = "windows", target_os = "android"))]
pub fn device_uuid(adapter: &wgpu::Adapter) -> String {
    use ash::vk;
    // SAFETY: the HAL adapter is only read, and not kept past this call.
    let Some(hal) = (unsafe { adapter.as_hal::<wgpu::hal::api::Vulkan>() }) else {
        return String::new();
    };
    let shared = hal.shared_instance();
    let instance = shared.raw_instance();
    let phd = hal.raw_physical_device();
    let mut id = vk::PhysicalDeviceIDProperties::default();
    let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
    // The query is core in Vulkan 1.1 and an instance extension before;
    // without either, ash's loader would hold a stub that panics.
    let khr = ash::khr::get_physical_device_properties2::NAME;
    if shared.extensions().contains(&khr) {
        let ext =
            ash::khr::get_physical_device_properties2::Instance::new(shared.entry(), instance);
        // SAFETY: the physical device belongs to this live instance, which
        // enabled the extension.
        unsafe { ext.get_physical_device_properties2(phd, &mut props) };
    } else {
        // SAFETY: as above.
        let device_api = unsafe { instance.get_physical_device_properties(phd) }.api_version;
        if shared.instance_api_version() < vk::API_VERSION_1_1 || device_api < vk::API_VERSION_1_1 {
            return String::new();
        }
        // SAFETY: as above; both instance and device are Vulkan 1.1 or later.
        unsafe { instance.get_physical_device_properties2(phd, &mut props) };
    }
    format_uuid(&id.device_uuid)
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "android")))]
pub fn device_uuid(_adapter: &wgpu::Adapter) -> String {
    String::new()
}

/// 16 bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; empty for all zeros,
/// which a driver that fills nothing in leaves behind.
pub fn format_uuid(bytes: &[u8; 16]) -> String {
    if bytes.iter().all(|&b| b == 0) {
        return String::new();
    }
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `0x10de`: the one spelling of PCI vendor and device ids in every output.
pub fn hex_id(id: u32) -> String {
    format!("0x{id:04x}")
}

/// Reads `0x10de` (any case) or a plain number: the ids in JSON written
/// before they were spelled as hex strings.
pub fn parse_hex_id(s: &str) -> Option<u32> {
    let t = s.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Serde for a `u32` PCI id written as a hex string, read from either a
/// hex string or a number.
pub mod hex_id_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex_id(*id))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Num(u32),
            Text(String),
        }
        match Either::deserialize(d)? {
            Either::Num(n) => Ok(n),
            Either::Text(t) => super::parse_hex_id(&t).ok_or_else(|| {
                serde::de::Error::custom(format!("{t:?} is not a PCI id such as 0x10de"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_lowercase_8_4_4_4_12() {
        let b: [u8; 16] = [
            0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xAB, 0xCD,
        ];
        assert_eq!(format_uuid(&b), "deadbeef-0001-0203-0405-06070809abcd");
        assert_eq!(format_uuid(&[0; 16]), "");
    }

    #[test]
    fn ids_round_trip_as_hex_strings() {
        assert_eq!(hex_id(0x10de), "0x10de");
        assert_eq!(hex_id(1), "0x0001");
        assert_eq!(parse_hex_id("0x10DE"), Some(0x10de));
        assert_eq!(parse_hex_id("4318"), Some(4318));
        assert_eq!(parse_hex_id("nvidia"), None);
        assert_eq!(bus_id("0000:01:00.0"), "0000:01:00.0");
        assert_eq!(bus_id("01:00.0"), "0000:01:00.0");
        assert_eq!(bus_id(""), "");
    }
}
