//! One pass over a repository: the folders holding a handler file, and the deployment files
//! that may declare functions, each sorted by path.
//!
//! A folder holding a handler file is a function and is not searched further (its
//! subdirectories are its own modules and data), as before templates were read; deployment
//! files beside the handler are still read.

use std::path::{Path, PathBuf};

use super::{Exclusions, HANDLER_FILES};

/// Directories never searched: dependencies, build output, generated deployment files (CDK's
/// synthesized templates, SAM's build copies) and test data.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "dist",
    "events",
    "expected",
    "cdk.out",
    "__pycache__",
    "venv",
    "site-packages",
];

/// Files larger than this are not opened to see whether they are a template or a stack.
const MAX_SNIFFED_BYTES: u64 = 4 << 20;

/// Marks that a YAML or JSON file of any name is a CloudFormation template.
const TEMPLATE_MARKS: &[&str] = &["AWSTemplateFormatVersion", "AWS::Serverless::Function", "AWS::Lambda::Function"];

/// Marks that a source file is a CDK app or stack.
const CDK_MARKS: &[&str] = &["aws-cdk-lib", "@aws-cdk/", "aws_cdk"];

/// What a repository holds.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Handler files (`index.*`, `lambda_function.py`), one per folder.
    pub handler_files: Vec<PathBuf>,
    /// SAM and CloudFormation templates.
    pub cloudformation: Vec<PathBuf>,
    /// `serverless.yml` files.
    pub serverless: Vec<PathBuf>,
    /// Terraform `.tf` files.
    pub terraform: Vec<PathBuf>,
    /// CDK sources (TypeScript, JavaScript, Python).
    pub cdk: Vec<PathBuf>,
}

/// Everything under `root` that is not skipped or excluded.
pub(super) fn scan(root: &Path, exclusions: &Exclusions) -> std::io::Result<Scan> {
    let mut scan = Scan::default();
    walk(root, root, exclusions, &mut scan)?;
    Ok(scan)
}

fn walk(root: &Path, dir: &Path, exclusions: &Exclusions, scan: &mut Scan) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    let handler = HANDLER_FILES.iter().map(|name| dir.join(name)).find(|path| path.is_file());
    let holds_handler = handler.is_some();
    if let Some(handler) = handler.filter(|handler| !exclusions.excludes(root, handler)) {
        scan.handler_files.push(handler);
    }
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if exclusions.excludes(root, &path) {
            continue;
        }
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if !holds_handler && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(root, &path, exclusions, scan)?;
            }
        } else if file_type.is_file() {
            classify(&path, &name, scan);
        }
    }
    Ok(())
}

/// Files the user names as templates are always read; other YAML, JSON and source files only
/// when they carry a template's or a CDK app's marks.
fn classify(path: &Path, name: &str, scan: &mut Scan) {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let in_cloudformation_dir = path.parent().and_then(Path::file_name).is_some_and(|dir| dir == "cloudformation");
    match extension {
        "yaml" | "yml" | "json" => {
            if name == "serverless.yml" || name == "serverless.yaml" {
                scan.serverless.push(path.to_path_buf());
            } else if name.starts_with("template.") || name.contains(".template.") || in_cloudformation_dir || sniff(path, TEMPLATE_MARKS) {
                scan.cloudformation.push(path.to_path_buf());
            }
        }
        "tf" => scan.terraform.push(path.to_path_buf()),
        "ts" | "js" | "mjs" | "cjs" | "py" if !name.ends_with(".d.ts") && sniff(path, CDK_MARKS) => scan.cdk.push(path.to_path_buf()),
        _ => {}
    }
}

/// Whether the file is small enough to open and contains one of `marks`.
fn sniff(path: &Path, marks: &[&str]) -> bool {
    let small = std::fs::metadata(path).is_ok_and(|metadata| metadata.len() <= MAX_SNIFFED_BYTES);
    small && std::fs::read_to_string(path).is_ok_and(|text| marks.iter().any(|mark| text.contains(mark)))
}
