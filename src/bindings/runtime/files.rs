//! `runtime.files`: list, read, stat, write, mkdir, delete over the gateway.

use super::{path_options, Target};
use crate::bindings::convert::{json_object, Options};
use crate::bindings::error::promise;
use crate::core::api;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// `runtime.files`.
#[wasm_bindgen]
pub struct RuntimeFiles {
    target: Rc<Target>,
}

impl RuntimeFiles {
    pub fn new(target: Rc<Target>) -> Self {
        RuntimeFiles { target }
    }

    fn get_path(&self, endpoint: &'static str, call: &'static str, options: JsValue) -> Promise {
        let target = self.target.clone();
        promise(async move {
            let (path, signal) = path_options(&Options::required(options, call)?)?;
            let url = target.url(endpoint, &[("path", Some(path))]);
            target.call(api::get(url), signal).await
        })
    }

    fn post_path(&self, endpoint: &'static str, call: &'static str, options: JsValue) -> Promise {
        let target = self.target.clone();
        promise(async move {
            let (path, signal) = path_options(&Options::required(options, call)?)?;
            let body = json_object(&[("path", JsValue::from_str(&path))], call)?;
            target
                .call(api::post(target.url(endpoint, &[]), body), signal)
                .await
        })
    }
}

fn flag(value: Option<bool>) -> Option<String> {
    value.map(|b| String::from(if b { "true" } else { "false" }))
}

#[wasm_bindgen]
impl RuntimeFiles {
    /// Lists a directory (`nested: true` for every descendant).
    #[wasm_bindgen(unchecked_return_type = "Promise<FileList>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListFilesOptions")] options: JsValue,
    ) -> Promise {
        const CALL: &str = "files.list(options)";
        let target = self.target.clone();
        promise(async move {
            let options = Options::required(options, CALL)?;
            let (path, signal) = path_options(&options)?;
            let nested = flag(options.bool("nested")?.filter(|n| *n));
            let url = target.url("/files", &[("path", Some(path)), ("nested", nested)]);
            target.call(api::get(url), signal).await
        })
    }

    /// Reads a text file.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileContent>")]
    pub fn read(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.get_path("/files/read", "files.read(options)", options)
    }

    /// A file's or directory's metadata.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileEntry>")]
    pub fn stat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.get_path("/files/stat", "files.stat(options)", options)
    }

    /// Writes (or appends to) a text file; `createDirs` creates missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileWriteResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WriteFileOptions")] options: JsValue,
    ) -> Promise {
        const CALL: &str = "files.write(options)";
        let target = self.target.clone();
        promise(async move {
            let options = Options::required(options, CALL)?;
            let (path, signal) = path_options(&options)?;
            let content = options
                .string("content")?
                .ok_or_else(|| options.fail("content", "a string"))?;
            let body = json_object(
                &[
                    ("path", JsValue::from_str(&path)),
                    ("content", JsValue::from_str(&content)),
                    (
                        "create_dirs",
                        JsValue::from_bool(options.bool("createDirs")?.unwrap_or(false)),
                    ),
                    (
                        "append",
                        JsValue::from_bool(options.bool("append")?.unwrap_or(false)),
                    ),
                ],
                CALL,
            )?;
            target
                .call(api::post(target.url("/files/write", &[]), body), signal)
                .await
        })
    }

    /// Creates a directory and its missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn mkdir(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.post_path("/files/mkdir", "files.mkdir(options)", options)
    }

    /// Deletes a file or a directory tree.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.post_path("/files/delete", "files.delete(options)", options)
    }
}
