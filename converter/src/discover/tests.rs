//! Discovery of small fixture repositories written into temporary directories.

use super::*;

/// A repository holding `files` (path, contents).
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    for (path, contents) in files {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    root
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// One line per function: `name path handler event-types`.
fn summary(root: &Path, project: &Project) -> Vec<String> {
    project
        .functions
        .iter()
        .map(|function| {
            let event_types = function.event_types.iter().map(|event_type| event_type.as_str()).collect::<Vec<_>>().join(",");
            format!("{} {} {} [{event_types}]", function.name, relative(root, &function.path), function.handler.as_deref().unwrap_or("-"))
        })
        .collect()
}

/// The notes as the user reads them, with paths relative to the root.
fn notes(root: &Path, project: &Project) -> Vec<String> {
    project.notes.iter().map(|note| format!("{}: {}", at(Path::new(&relative(root, &note.file)), note.line), note.message)).collect()
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.contains(needle)).expect("the fixture holds the needle") + 1
}

/// Asserts that exactly one note starts with `location` and mentions `phrase`.
fn assert_note(notes: &[String], location: &str, phrase: &str) {
    let found = notes.iter().filter(|note| note.starts_with(&format!("{location}: ")) && note.contains(phrase)).count();
    assert_eq!(found, 1, "expected one note at {location} mentioning {phrase:?}, got:\n{}", notes.join("\n"));
}

const SAM_TEMPLATE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x
    Handler: index.handler
Resources:
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/auth
      Handler: src/auth.handler
      AutoPublishAlias: live
  RewriteFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/rewrite/
  HeadersFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        EntryPoints:
          - app.ts
    Properties:
      CodeUri: functions/headers
      Handler: app.handler
  HeadersFunctionVersion:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref HeadersFunction
  Distribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        DefaultCacheBehavior:
          LambdaFunctionAssociations:
            - EventType: viewer-request
              LambdaFunctionARN: !Ref AuthFunction.Version
            - EventType: origin-request
              LambdaFunctionARN: !GetAtt RewriteFunction.Version
            - EventType: viewer-response
              LambdaFunctionARN: !Ref HeadersFunctionVersion
        CacheBehaviors:
          - PathPattern: /api/*
            LambdaFunctionAssociations:
              - EventType: origin-response
                LambdaFunctionARN: !Sub "${HeadersFunction.Arn}:1"
              - EventType: viewer-request
                LambdaFunctionARN: !Join [":", [!GetAtt RewriteFunction.Arn, "2"]]
          - PathPattern: /old/*
            LambdaFunctionAssociations:
              - EventType: origin-request
                LambdaFunctionARN: !Ref MissingFunction.Version
"#;

#[test]
fn sam_template_functions_get_handlers_and_every_form_of_association() {
    let root = repository(&[
        ("template.yaml", SAM_TEMPLATE),
        ("functions/auth/src/auth.js", "exports.handler = async (e) => e;"),
        // Inside AuthFunction's CodeUri: part of its package, not a function of its own.
        ("functions/auth/index.js", "module.exports = {};"),
        ("functions/rewrite/index.js", "exports.handler = async (e) => e;"),
        ("functions/headers/app.ts", "export const handler = async (e: unknown) => e;"),
        ("functions/headers/app.js", "// built by esbuild"),
        ("standalone/index.js", "exports.handler = async (e) => e;"),
    ]);
    let project = discover_project(root.path()).expect("discovered");
    assert_eq!(
        summary(root.path(), &project),
        [
            "AuthFunction functions/auth/src/auth.js handler [viewer-request]",
            "HeadersFunction functions/headers/app.ts handler [origin-response,viewer-response]",
            "RewriteFunction functions/rewrite/index.js handler [viewer-request,origin-request]",
            "standalone standalone/index.js - []",
        ]
    );
    let auth = &project.functions[0];
    assert_eq!(auth.directory(), Some(root.path().join("functions/auth").as_path()));
    assert!(auth.owns_directory());
    let line = line_of(SAM_TEMPLATE, "MissingFunction.Version");
    assert_note(&notes(root.path(), &project), &format!("template.yaml:{line}"), "cannot tell which function");
    assert_eq!(project.notes.len(), 1, "{:?}", project.notes);
}

const JSON_TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Auth": {
      "Type": "AWS::Lambda::Function",
      "Properties": {
        "Code": "../lambda/auth",
        "Handler": "lambda_function.lambda_handler",
        "Runtime": "python3.12"
      }
    },
    "AuthVersion": {
      "Type": "AWS::Lambda::Version",
      "Properties": { "FunctionName": { "Fn::GetAtt": ["Auth", "Arn"] } }
    },
    "Inline": {
      "Type": "AWS::Lambda::Function",
      "Properties": { "Code": { "ZipFile": "exports.handler = async () => ({});" }, "Handler": "index.handler", "Runtime": "nodejs20.x" }
    },
    "Packaged": {
      "Type": "AWS::Lambda::Function",
      "Properties": { "Code": { "S3Bucket": "artifacts", "S3Key": "auth.zip" }, "Handler": "index.handler", "Runtime": "nodejs20.x" }
    },
    "Cdn": {
      "Type": "AWS::CloudFront::Distribution",
      "Properties": { "DistributionConfig": { "DefaultCacheBehavior": { "LambdaFunctionAssociations": [
        { "EventType": "origin-request", "LambdaFunctionARN": { "Ref": "AuthVersion" } }
      ] } } }
    }
  }
}
"#;

#[test]
fn json_cloudformation_template_found_by_content_with_inline_and_s3_code_as_notes() {
    let root = repository(&[
        ("infra/stack.json", JSON_TEMPLATE),
        ("lambda/auth/lambda_function.py", "def lambda_handler(event, context):\n    return event\n"),
        ("lambda/auth/helpers.py", ""),
    ]);
    let project = discover_project(root.path()).expect("discovered");
    assert_eq!(summary(root.path(), &project), ["Auth lambda/auth/lambda_function.py lambda_handler [origin-request]"]);
    let notes = notes(root.path(), &project);
    assert_note(&notes, &format!("infra/stack.json:{}", line_of(JSON_TEMPLATE, "\"Inline\"")), "inline code");
    assert_note(&notes, &format!("infra/stack.json:{}", line_of(JSON_TEMPLATE, "\"Packaged\"")), "in S3");
    assert_eq!(notes.len(), 2, "{notes:?}");
}

const SERVERLESS: &str = r#"service: edge
provider:
  name: aws
  runtime: nodejs18.x
package:
  individually: true
functions:
  auth:
    handler: src/auth.handler
    events:
      - cloudFront:
          eventType: viewer-request
          origin: s3://bucket.s3.amazonaws.com/files
  rewrite:
    handler: handlers/rewrite.main
    runtime: python3.11
    package:
      artifact: build/rewrite.zip
    events:
      - cloudFront:
          eventType: origin-request
      - cloudFront:
          eventType: ${self:custom.trigger}
  gone:
    handler: src/gone.handler
"#;

#[test]
fn serverless_functions_take_their_cloudfront_event_types() {
    let root = repository(&[
        ("serverless.yml", SERVERLESS),
        ("src/auth.js", "exports.handler = async (e) => e;"),
        ("handlers/rewrite.py", "def main(event, context):\n    return event\n"),
        // A JavaScript file of the same module name does not fit the Python runtime.
        ("handlers/rewrite.js", ""),
    ]);
    let project = discover_project(root.path()).expect("discovered");
    assert_eq!(
        summary(root.path(), &project),
        ["rewrite handlers/rewrite.py main [origin-request]", "auth src/auth.js handler [viewer-request]"]
    );
    let notes = notes(root.path(), &project);
    assert_note(&notes, &format!("serverless.yml:{}", line_of(SERVERLESS, "  rewrite:")), "${self:custom.trigger}");
    assert_note(&notes, &format!("serverless.yml:{}", line_of(SERVERLESS, "  gone:")), "none of them exists");
    assert_eq!(notes.len(), 2, "{notes:?}");
}

const TERRAFORM_LAMBDA: &str = r#"data "archive_file" "auth" {
  type        = "zip"
  source_dir  = "${path.module}/lambda/auth"
  output_path = "${path.module}/build/auth.zip"
}

resource "aws_lambda_function" "auth" {
  function_name    = "edge-auth"
  filename         = data.archive_file.auth.output_path
  source_code_hash = data.archive_file.auth.output_base64sha256
  handler          = "index.handler" # the export
  runtime          = "nodejs20.x"
  publish          = true
  environment {
    variables = {
      handler = "ignored"
    }
  }
}

resource "aws_lambda_function" "rewrite" {
  function_name = "edge-rewrite"
  filename      = "prebuilt/rewrite.zip"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
}
"#;

const TERRAFORM_DISTRIBUTION: &str = r#"resource "aws_cloudfront_distribution" "cdn" {
  default_cache_behavior {
    target_origin_id = "s3"
    lambda_function_association {
      event_type   = "viewer-request"
      lambda_arn   = aws_lambda_function.auth.qualified_arn
      include_body = false
    }
  }
  ordered_cache_behavior {
    path_pattern = "/api/*"
    lambda_function_association {
      event_type = "origin-response"
      lambda_arn = "${aws_lambda_function.auth.arn}:${aws_lambda_function.auth.version}"
    }
    lambda_function_association {
      event_type = "origin-request"
      lambda_arn = var.imported_arn
    }
  }
}
"#;

#[test]
fn terraform_functions_resolve_archives_and_associations_across_files() {
    let root = repository(&[
        ("infra/lambda.tf", TERRAFORM_LAMBDA),
        ("infra/cloudfront.tf", TERRAFORM_DISTRIBUTION),
        ("infra/lambda/auth/index.js", "exports.handler = async (e) => e;"),
    ]);
    let project = discover_project(root.path()).expect("discovered");
    assert_eq!(summary(root.path(), &project), ["auth infra/lambda/auth/index.js handler [viewer-request,origin-response]"]);
    let notes = notes(root.path(), &project);
    assert_note(&notes, &format!("infra/lambda.tf:{}", line_of(TERRAFORM_LAMBDA, "\"rewrite\"")), "built archive");
    assert_note(&notes, &format!("infra/cloudfront.tf:{}", line_of(TERRAFORM_DISTRIBUTION, "var.imported_arn")), "cannot tell which function");
    assert_eq!(notes.len(), 2, "{notes:?}");
}

const CDK_STACK: &str = r#"import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as path from 'path';

export class EdgeStack extends cdk.Stack {
  constructor(scope: cdk.App, id: string) {
    super(scope, id);
    const auth = new cloudfront.experimental.EdgeFunction(this, 'Auth', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '../lambda/auth'), { exclude: ['*.test.js'] }),
    });
    const headers = new NodejsFunction(this, 'Headers', {
      entry: path.join(__dirname, '..', 'lambda', 'headers', 'main.ts'),
      handler: 'onResponse',
    });
    const inline = new lambda.Function(this, 'Inline', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    new cloudfront.Distribution(this, 'Cdn', {
      defaultBehavior: {
        origin: new origins.HttpOrigin('example.com'),
        edgeLambdas: [
          { functionVersion: auth.currentVersion, eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST },
          {
            functionVersion: headers.currentVersion,
            eventType: cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE,
          },
        ],
      },
      additionalBehaviors: {
        '/img/*': {
          origin: new origins.HttpOrigin('img.example.com'),
          edgeLambdas: [{ functionVersion: lambda.Version.fromVersionArn(this, 'V', 'arn:aws:lambda:us-east-1:1:function:x:1'), eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST }],
        },
      },
    });
  }
}
"#;

const CDK_PYTHON_STACK: &str = r#"from aws_cdk import Stack, aws_cloudfront as cloudfront, aws_lambda as _lambda


class PyStack(Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        py_fn = _lambda.Function(
            self, "PyRewrite",
            runtime=_lambda.Runtime.PYTHON_3_12,
            handler="lambda_function.lambda_handler",
            code=_lambda.Code.from_asset("lambda/py"),
        )
        cloudfront.EdgeLambda(function_version=py_fn.current_version, event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST)
"#;

#[test]
fn cdk_stacks_in_typescript_and_python_declare_functions_with_literal_paths() {
    let root = repository(&[
        ("cdk.json", "{\"app\": \"npx ts-node bin/app.ts\"}"),
        ("lib/edge-stack.ts", CDK_STACK),
        ("stacks/py_stack.py", CDK_PYTHON_STACK),
        ("lambda/auth/index.js", "exports.handler = async (e) => e;"),
        ("lambda/headers/main.ts", "export const onResponse = async (e: unknown) => e;"),
        ("lambda/py/lambda_function.py", "def lambda_handler(event, context):\n    return event\n"),
    ]);
    let project = discover_project(root.path()).expect("discovered");
    assert_eq!(
        summary(root.path(), &project),
        [
            "Auth lambda/auth/index.js handler [viewer-request]",
            "Headers lambda/headers/main.ts onResponse [origin-response]",
            "PyRewrite lambda/py/lambda_function.py lambda_handler [origin-request]",
        ]
    );
    let notes = notes(root.path(), &project);
    assert_note(&notes, &format!("lib/edge-stack.ts:{}", line_of(CDK_STACK, "'Inline'")), "inline code");
    assert_note(&notes, &format!("lib/edge-stack.ts:{}", line_of(CDK_STACK, "ORIGIN_REQUEST")), "cannot tell which function");
    assert_eq!(notes.len(), 2, "{notes:?}");
}

const CONFIG: &str = r#"exclude = ["legacy/**", "experiments/*"]

[defines]
ORIGIN_DOMAIN = "origin.example.com"

[[function]]
name = "a"
handler = "main"
event-types = ["origin-request"]

[[function]]
path = "b/index.js"
name = "bee"

[[function]]
name = "extra"
path = "tools/extra.mjs"
event-types = ["viewer-response", "viewer-response"]
"#;

#[test]
fn edgeport_toml_patches_excludes_and_adds_functions() {
    let root = repository(&[
        ("edgeport.toml", CONFIG),
        ("a/index.js", ""),
        ("b/index.js", ""),
        ("legacy/old/index.js", ""),
        ("experiments/x/index.js", ""),
        ("tools/extra.mjs", ""),
    ]);
    let project = discover_project(root.path()).expect("discovered");
    assert_eq!(
        summary(root.path(), &project),
        ["a a/index.js main [origin-request]", "bee b/index.js - []", "extra tools/extra.mjs - [viewer-response]"]
    );
    assert_eq!(project.defines.get("ORIGIN_DOMAIN").map(String::as_str), Some("origin.example.com"));
    assert!(project.notes.is_empty(), "{:?}", project.notes);
    assert!(!project.functions[2].owns_directory(), "a stand-alone file added by edgeport.toml owns no directory");
}

#[test]
fn a_malformed_edgeport_toml_is_an_error_at_its_line() {
    let cases = [
        ("[[function]]\nname = \"a\"\nevent_types = [\"viewer-request\"]\n", "edgeport.toml:3: ", "event_types"),
        ("[[function]]\nname = \"a\"\nevent-types = [\"viewer_request\"]\n", "edgeport.toml:3: ", "viewer_request"),
        ("[defines]\nPORT = 8080\n", "edgeport.toml:2: ", "expected a string"),
        ("\n[[function]]\npath = \"missing/index.js\"\n", "edgeport.toml:2: ", "does not exist"),
        ("[[function]]\nname = \"nobody\"\n", "edgeport.toml:1: ", "give `path`"),
        ("exclude = [\"a/[\"]\n", "edgeport.toml:1: ", "not a glob"),
        ("exclude = \n", "edgeport.toml:1: ", "docs/edgeport-toml.md"),
    ];
    for (config, location, phrase) in cases {
        let root = repository(&[("edgeport.toml", config), ("a/index.js", "")]);
        let error = discover_project(root.path()).expect_err(config).to_string();
        let error = error.replace(&format!("{}/", root.path().display()), "");
        assert!(error.starts_with(location) && error.contains(phrase), "for {config:?}: {error}");
    }
}

const BAD_YAML: &str = "Resources:\n  Fn:\n    Type: a: b\n";

const MISSING_DIR_TEMPLATE: &str = r#"Resources:
  Lost:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: nope/
      Handler: index.handler
      Runtime: nodejs20.x
  Go:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: go/
      Handler: bootstrap
      Runtime: go1.x
"#;

#[test]
fn malformed_templates_missing_directories_and_name_clashes_are_notes() {
    let root = repository(&[
        ("cloudformation/broken.yaml", BAD_YAML),
        ("template.yml", MISSING_DIR_TEMPLATE),
        ("go/main.go", ""),
        ("x/auth/index.js", ""),
        ("y/auth/index.js", ""),
    ]);
    let project = discover_project(root.path()).expect("the other functions are still found");
    assert_eq!(summary(root.path(), &project), ["auth x/auth/index.js - []", "auth-2 y/auth/index.js - []"]);
    let notes = notes(root.path(), &project);
    assert_note(&notes, "cloudformation/broken.yaml:3", "not a valid template");
    assert_note(&notes, &format!("template.yml:{}", line_of(MISSING_DIR_TEMPLATE, "Lost:")), "code directory");
    assert_note(&notes, &format!("template.yml:{}", line_of(MISSING_DIR_TEMPLATE, "Go:")), "runtime `go1.x`");
    assert_note(&notes, "y/auth/index.js", "converted as `auth-2`");
    assert_eq!(notes.len(), 4, "{notes:?}");
}

#[test]
fn nothing_usable_is_an_error_that_carries_the_notes() {
    let template = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: s3://bucket/fn.zip\n";
    let root = repository(&[("template.yaml", template)]);
    let error = discover_project(root.path()).expect_err("only S3 code").to_string();
    assert!(error.contains("no functions found") && error.contains("template.yaml:2: function `Fn`: its CodeUri is in S3"), "{error}");
}

#[test]
fn finds_function_directories_and_skips_dependencies() {
    let root = repository(&[
        ("a/index.js", ""),
        ("b/nested/index.ts", ""),
        ("py/lambda_function.py", ""),
        ("py/helpers.py", ""),
        ("node_modules/pkg/index.js", ""),
        ("cdk.out/asset.1234/index.js", ""),
        (".aws-sam/build/Fn/index.js", ""),
        ("venv/lib/site-packages/pkg/lambda_function.py", ""),
        ("lib/python3.12/site-packages/pkg/index.py", ""),
        ("c/readme.md", ""),
    ]);
    let names: Vec<_> = discover(root.path()).expect("found").into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["a", "nested", "py"]);
}

#[test]
fn empty_directory_is_an_error_that_says_what_a_function_is() {
    let root = tempfile::tempdir().expect("temp dir");
    let error = discover(root.path()).expect_err("nothing there");
    assert!(error.to_string().contains("index.js"));
}

#[test]
fn a_file_is_named_after_its_directory_when_it_is_an_index() {
    let root = repository(&[("redirect/index.js", "")]);
    let file = root.path().join("redirect/index.js");
    let function = FunctionSource::from_file(&file);
    assert_eq!(function.name, "redirect");
    assert_eq!(function.directory(), Some(root.path().join("redirect").as_path()));
    let solo = FunctionSource::from_file(Path::new("x/auth.mjs"));
    assert_eq!(solo.name, "auth");
    assert!(!solo.owns_directory());
    assert_eq!(discover(&file).expect("a file is a function"), [function]);
}

#[test]
fn handler_strings_resolve_to_the_first_existing_module_of_the_runtime() {
    let root = repository(&[("src/auth.ts", ""), ("src/auth.py", ""), ("pkg/mod.py", "")]);
    let dir = root.path();
    let cases: [(&str, &[&str], Result<&str, &str>); 5] = [
        ("src/auth.handler", ALL_EXTENSIONS, Ok("src/auth.ts")),
        ("src/auth.handler", PYTHON_EXTENSIONS, Ok("src/auth.py")),
        ("pkg.mod.handler", PYTHON_EXTENSIONS, Ok("pkg/mod.py")),
        ("src/other.handler", ALL_EXTENSIONS, Err("none of them exists")),
        ("bootstrap", ALL_EXTENSIONS, Err("is not `module.export`")),
    ];
    for (handler, extensions, expected) in cases {
        let resolved = resolve_handler(dir, handler, &[], extensions).map(|(path, _)| relative(dir, &path));
        match expected {
            Ok(path) => assert_eq!(resolved.as_deref(), Ok(path), "{handler}"),
            Err(phrase) => assert!(resolved.as_ref().is_err_and(|message| message.contains(phrase)), "{handler}: {resolved:?}"),
        }
    }
}
