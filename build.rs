//! The HDF5 the library is built against, as a cfg the code can test: `hdf5_2` for HDF5 2.x,
//! whose direct chunk read (`H5Dread_chunk`) takes one argument more (src/usid/chunked.rs).
//! hdf5-metno-sys (links = "hdf5") announces each version it reaches as DEP_HDF5_VERSION_*.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hdf5_2)");
    println!("cargo::rerun-if-env-changed=DEP_HDF5_VERSION_2_0_0");
    if std::env::var_os("DEP_HDF5_VERSION_2_0_0").is_some() {
        println!("cargo::rustc-cfg=hdf5_2");
    }
}
