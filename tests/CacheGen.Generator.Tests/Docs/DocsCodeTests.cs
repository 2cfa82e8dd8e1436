using System.Collections.Immutable;
using System.Text.RegularExpressions;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Tests.Docs;

/// <summary>
/// Every <c>csharp</c> (<c>cs</c>, <c>c#</c>) block of README.md, CONTRIBUTING.md, docs/**, runtime/*/README.md and
/// tools/*/README.md compiles with the CacheGen generator and analyzer: no error and no CGxxxx diagnostic; a block whose
/// first line is <c>// CGxxxx</c> (a misuse example, as on the docs/diagnostics pages) reports that diagnostic and no
/// other error (other CacheGen warnings that the misuse trips as well are allowed).
/// <para>
/// A block is tried as a whole file (declarations, or a Program.cs with top-level statements), as members of
/// <c>public sealed partial class DocSample(HybridCache cache, PostStore store)</c>, and as the statements of a method
/// that has <c>builder</c>, <c>app</c>, <c>services</c>, <c>posts</c> (a route group), <c>cache</c> and <c>o</c>
/// (CacheGenOptions) in scope; the first mode that compiles passes it. Every mode has the Web SDK's implicit usings and
/// the app's types of Docs/DocsPrelude.cs (Post, PostStore, BlogContext ...); a block with no <c>using</c> directive of its own also gets
/// <see cref="DocsUsings"/> (a block that lists its usings must list them all, as a real file must).
/// </para>
/// <para>
/// To make a new block compile: write it so it compiles in one of the modes (declare what it uses, or use the names
/// above), or add the app's types it assumes (a store, a DTO, a DbContext) to Docs/DocsPrelude.cs. Only when a block
/// cannot compile, say why on the line before its fence: <c>&lt;!-- not compiled: REASON --&gt;</c>; a block that
/// quotes generated code says where from, <c>&lt;!-- generated: tests/CacheGen.Generator.Tests/Snapshots/X.verified.cs --&gt;</c>,
/// and each of its lines must be a line of that file (<c>...</c> stands for the lines left out).
/// </para>
/// </summary>
public sealed partial class DocsCodeTests
{
    [Fact]
    public void Every_csharp_block_in_the_docs_compiles_with_the_generator()
    {
        List<DocBlock> blocks = DocFiles().SelectMany(file => BlocksIn(File.ReadAllText(file), Relative(file))).ToList();
        Assert.NotEmpty(blocks);   // the extraction itself works

        List<(DocBlock Block, string Failure)> failures = blocks.Where(b => b.Marker is not null)
            .Select(b => (b, CheckMarked(b))).Where(f => f.Item2 is not null).Select(f => (f.b, f.Item2!)).ToList();
        failures.AddRange(Compile(blocks.Where(b => b.Marker is null).ToList()).Where(v => v.Mode is null).Select(v => (v.Block, v.Describe())));
        failures.AddRange(blocks.Where(b => b.ExpectedDiagnostic is { } id && DiagnosticPage().Match(b.File) is { Success: true } page && page.Groups[1].Value != id)
            .Select(b => (b, $"{b}: the misuse example of {Path.GetFileNameWithoutExtension(b.File)}'s page shows {b.ExpectedDiagnostic}")));

        string[] failing = [.. failures.Select(f => f.Failure)];
        Assert.True(failing.Length == 0,
            $"{failing.Length} C# block(s) in the docs do not compile (see {nameof(DocsCodeTests)}' summary for how to fix one):\n\n"
            + string.Join("\n\n", failing));
    }

    [Fact]
    public void Blocks_are_read_with_their_line_and_marker_and_pass_in_the_first_mode_that_compiles()
    {
        const string markdown = """
            # Page
            ```csharp
            public sealed record Point(int X, int Y);
            ```
            ```sh
            dotnet build
            ```
            1. In a list:
               ```cs
               [Cached("points")] public partial Task<int> CountAsync();
               private Task<int> CountCoreAsync() => Task.FromResult(1);
               ```
            ```c#
            builder.Services.AddCacheGen(o => o.KeyPrefix = "app");
            ```
            ```csharp
            // CG0001
            public partial class Points(HybridCache cache)
            {
                [Cached("points")] public Task<int> CountAsync() => Task.FromResult(1);
            }
            ```
            ```csharp
            this is not C#;
            ```
            <!-- not compiled: the generator's output -->
            ```csharp
            partial class X { }
            ```
            ```csharp
            var app = WebApplication.Create();
            app.MapGet("/", () => "hello");
            app.Run();
            ```
            """;

        List<DocBlock> blocks = BlocksIn(markdown, "page.md").ToList();
        Assert.Equal([3, 10, 14, 17, 24, 28, 31], blocks.Select(b => b.Line));
        Assert.Equal("[Cached(\"points\")] public partial Task<int> CountAsync();\nprivate Task<int> CountCoreAsync() => Task.FromResult(1);", blocks[1].Code);
        Assert.Equal("CG0001", blocks[3].ExpectedDiagnostic);
        Assert.Equal(new DocMarker("not compiled", "the generator's output"), blocks[5].Marker);
        Assert.Null(CheckMarked(blocks[5]));
        Assert.NotNull(CheckMarked(blocks[5] with { Marker = new DocMarker("not compiled", "") }));   // a reason is required

        List<Verdict> verdicts = Compile([.. blocks[..5], blocks[6]]);
        Assert.Equal([Mode.File, Mode.Members, Mode.Statements, Mode.File, null, Mode.File], verdicts.Select(v => v.Mode));
        Assert.StartsWith("page.md:24", verdicts[4].Describe());

        const string snapshot = "tests/CacheGen.Generator.Tests/Snapshots/SnapshotTests.Contract_post_service#Blog.PostService.GetAsync(int,CancellationToken).verified.cs";
        DocBlock excerpt = new("page.md", 1, "    {\n...\n\"{posts}:post:\".CopyTo(__key.Slice(__keyLength));\n__keyLength += 13;", new DocMarker("generated", snapshot));
        Assert.Null(CheckMarked(excerpt));
        Assert.Contains("__keyLength += 14;", CheckMarked(excerpt with { Code = excerpt.Code.Replace("13", "14") }));
    }

    // ---- Reading the blocks ----

    internal sealed record DocMarker(string Kind, string Argument);

    internal sealed record DocBlock(string File, int Line, string Code, DocMarker? Marker)
    {
        /// <summary>CGxxxx for a misuse example, whose first line is <c>// CGxxxx</c>.</summary>
        public string? ExpectedDiagnostic => MisuseComment().Match(Code) is { Success: true } m ? m.Groups[1].Value : null;

        public override string ToString() => $"{File}:{Line}";
    }

    private static IEnumerable<string> DocFiles()
    {
        string root = DiagnosticDocsTests.Root;
        IEnumerable<string> Readmes(string folder) => Directory.Exists(Path.Combine(root, folder))
            ? Directory.GetDirectories(Path.Combine(root, folder)).Select(d => Path.Combine(d, "README.md"))
            : [];
        return new[] { Path.Combine(root, "README.md"), Path.Combine(root, "CONTRIBUTING.md") }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Readmes("runtime")).Concat(Readmes("tools"))
            .Where(File.Exists).Order(StringComparer.Ordinal);
    }

    private static string Relative(string file) => Path.GetRelativePath(DiagnosticDocsTests.Root, file).Replace('\\', '/');

    /// <summary>The C# fenced blocks (indented ones in lists too, their indent removed), each with the line of its first code line.</summary>
    internal static IEnumerable<DocBlock> BlocksIn(string markdown, string file)
    {
        string[] lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        for (int i = 0; i < lines.Length; i++)
        {
            Match open = OpeningFence().Match(lines[i]);
            if (!open.Success)
                continue;
            string indent = open.Groups["indent"].Value, fence = open.Groups["fence"].Value;
            int first = i + 1, end = first;
            while (end < lines.Length && !(lines[end].Trim().StartsWith(fence, StringComparison.Ordinal) && lines[end].Trim().Trim(fence[0]).Length == 0))
                end++;
            i = end;
            if (open.Groups["info"].Value.ToLowerInvariant() is not ("csharp" or "cs" or "c#"))
                continue;
            string code = string.Join("\n", lines[first..end].Select(l => l.StartsWith(indent, StringComparison.Ordinal) ? l[indent.Length..] : l.TrimStart()));
            Match marker = first >= 2 ? Marker().Match(lines[first - 2].Trim()) : Match.Empty;
            yield return new DocBlock(file, first + 1, code,
                marker.Success ? new DocMarker(marker.Groups["kind"].Value, marker.Groups["argument"].Value) : null);
        }
    }

    /// <summary>A marked block: a reason not to compile it, or generated code whose lines are all in the named snapshot.</summary>
    private static string? CheckMarked(DocBlock block)
    {
        DocMarker marker = block.Marker!;
        if (marker.Argument.Length == 0)
            return $"{block}: <!-- {marker.Kind}: ... --> needs {(marker.Kind == "generated" ? "the snapshot file it quotes" : "a reason")}";
        if (marker.Kind != "generated")
            return null;
        string snapshot = Path.Combine(DiagnosticDocsTests.Root, marker.Argument);
        if (!File.Exists(snapshot))
            return $"{block}: generated from {marker.Argument}, which does not exist";
        HashSet<string> generated = File.ReadAllLines(snapshot).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
        string[] missing = block.Code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l != "..." && !generated.Contains(l)).ToArray();
        return missing.Length == 0 ? null
            : $"{block}: lines that {marker.Argument} does not have (regenerate the excerpt):\n    " + string.Join("\n    ", missing.Take(5));
    }

    // ---- Compiling them ----

    internal enum Mode { File, Members, Statements }

    /// <summary>How one block fared: the mode it compiles in (null: none), and what each mode tried reported.</summary>
    internal sealed record Verdict(DocBlock Block, Mode? Mode, IReadOnlyDictionary<Mode, ImmutableArray<Problem>> Tried)
    {
        public string Describe()
        {
            // The mode that reports the expected diagnostic, else the one with the fewest errors, is most likely the one meant.
            (Mode closest, ImmutableArray<Problem> problems) = Tried
                .OrderBy(t => Block.ExpectedDiagnostic is { } id && t.Value.Any(p => p.Id == id) ? 0 : 1)
                .ThenBy(t => t.Value.Count(p => p.Severity == DiagnosticSeverity.Error)).ThenBy(t => t.Value.Length).ThenBy(t => t.Key)
                .Select(t => (t.Key, t.Value)).First();
            string expected = Block.ExpectedDiagnostic is { } id ? $" that reports {id} and no other error" : "";
            return $"{Block}: compiles in no mode{expected}; closest as {closest.ToString().ToLowerInvariant()} ({problems.Length} problem(s)):\n    "
                + string.Join("\n    ", problems.Take(3).Select(d => d.ToString()).DefaultIfEmpty($"no {Block.ExpectedDiagnostic}"));
        }
    }

    /// <summary>
    /// Tries the blocks in each mode in turn, all in one compilation per mode, each under a namespace of its own. A block
    /// with top-level statements (a Program.cs) or its own namespace needs a compilation to itself as a file: that is
    /// tried last, for the blocks no shared compilation passed (most are statements, which the statements mode takes).
    /// </summary>
    internal static List<Verdict> Compile(IReadOnlyList<DocBlock> blocks)
    {
        var tried = blocks.Select(_ => new Dictionary<Mode, ImmutableArray<Problem>>()).ToArray();
        var passed = new Mode?[blocks.Count];
        bool[] ownFile = blocks.Select(NeedsOwnFile).ToArray();
        (Mode Mode, bool OwnFiles)[] steps = [(Mode.File, false), (Mode.Members, false), (Mode.Statements, false), (Mode.File, true)];
        foreach ((Mode mode, bool ownFiles) in steps)
        {
            int[] pending = [.. Enumerable.Range(0, blocks.Count).Where(i => passed[i] is null && (mode != Mode.File || ownFile[i] == ownFiles))];
            int[][] compilations = ownFiles ? [.. pending.Select(i => new[] { i })] : [pending];
            Parallel.ForEach(compilations.Where(c => c.Length > 0), compilation =>
            {
                ImmutableArray<Problem>[] problems = Problems([.. compilation.Select(i => (blocks[i], Namespace(i)))], mode);
                for (int c = 0; c < compilation.Length; c++)
                {
                    tried[compilation[c]][mode] = problems[c];   // each block is in one compilation of a step only
                    if (Passes(blocks[compilation[c]], problems[c]))
                        passed[compilation[c]] = mode;
                }
            });
        }
        return blocks.Select((b, i) => new Verdict(b, passed[i], tried[i])).ToList();
    }

    private static string Namespace(int index) => $"DocBlock{index}";

    /// <summary>
    /// Clean; or, for a misuse example, its diagnostic and no other error than that consequence (a neighbouring
    /// CacheGen warning the misuse also trips is not a second mistake of the example).
    /// </summary>
    private static bool Passes(DocBlock block, ImmutableArray<Problem> problems) => block.ExpectedDiagnostic is not { } id
        ? problems.IsEmpty
        : problems.Any(d => d.Id == id) && problems.All(d => d.Id == id || d.IsCacheGenWarning || IsConsequenceOfMisuse(d));

    /// <summary>A partial method the generator declined to implement: the misuse's own consequence, not a second mistake.</summary>
    private static bool IsConsequenceOfMisuse(Problem d) => d.Id is "CS8795" or "CS9276";

    /// <summary>Top-level statements, its own namespace or a file-level directive: it cannot share a compilation under a namespace of ours.</summary>
    private static bool NeedsOwnFile(DocBlock block)
    {
        CompilationUnitSyntax root = CSharpSyntaxTree.ParseText(block.Code, GeneratorHarness.ParseOptions).GetCompilationUnitRoot();
        return root.Members.Any(m => m is GlobalStatementSyntax or BaseNamespaceDeclarationSyntax)
            || root.AttributeLists.Count > 0 || root.Externs.Count > 0 || root.Usings.Any(u => u.GlobalKeyword != default);
    }

    private static bool HasOwnUsings(DocBlock block) =>
        CSharpSyntaxTree.ParseText(block.Code, GeneratorHarness.ParseOptions).GetCompilationUnitRoot().Usings.Count > 0;

    /// <summary>The block as a source file of the given mode; #line keeps every diagnostic on the markdown's own line.</summary>
    private static string Source(DocBlock block, Mode mode, string ns)
    {
        string code = $"#line {block.Line} \"{block.File}\"\n{block.Code}\n#line default\n";
        return mode switch
        {
            Mode.File when NeedsOwnFile(block) => (HasOwnUsings(block) ? "" : DocsUsings) + code,
            Mode.File => $"namespace {ns};\n" + (HasOwnUsings(block) ? "" : DocsUsings) + code,
            Mode.Members => $"namespace {ns}\n{{\n{DocsUsings}public sealed partial class DocSample(HybridCache cache, PostStore store)\n{{\n{code}}}\n}}\n",
            _ => $"namespace {ns}\n{{\n{DocsUsings}public static class DocStatements\n{{\n"
                + "public static async Task Run(WebApplicationBuilder builder, WebApplication app, IServiceCollection services, "
                + "RouteGroupBuilder posts, HybridCache cache, global::CacheGen.Redis.CacheGenOptions o)\n{\n" + code + "}\n}\n}\n",
        };
    }

    /// <summary>What fails each block of one compilation: errors, and CacheGen's diagnostics of any severity.</summary>
    private static ImmutableArray<Problem>[] Problems((DocBlock Block, string Namespace)[] blocks, Mode mode)
    {
        SyntaxTree[] trees = blocks.Select(b => CSharpSyntaxTree.ParseText(Source(b.Block, mode, b.Namespace), GeneratorHarness.ParseOptions, path: b.Namespace + ".cs")).ToArray();
        bool program = trees.Any(t => t.GetCompilationUnitRoot().Members.Any(m => m is GlobalStatementSyntax));
        var compilation = CSharpCompilation.Create("Docs", [ImplicitUsings, .. trees], References.Value,
            new CSharpCompilationOptions(program ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorRun run = GeneratorHarness.Run(compilation);
        var byBlock = blocks.Select(_ => ImmutableArray.CreateBuilder<Problem>()).ToArray();
        Add(run.Output.GetDiagnostics().Concat(run.GeneratorDiagnostics));
        if (byBlock.Any(b => !b.Any(p => p.Severity == DiagnosticSeverity.Error)))   // the analyzer is slow, and adds nothing to a failure
            Add(run.AnalyzerDiagnostics);
        return byBlock.Select(b => b.ToImmutable()).ToArray();

        void Add(IEnumerable<Diagnostic> diagnostics)
        {
            foreach (Diagnostic d in diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error || d.Id.StartsWith("CG", StringComparison.Ordinal) || d.Id == "CS8785"))   // CS8785: the generator threw
            {
                int owner = Owner(d.Location);
                foreach (var list in owner >= 0 ? byBlock[owner..(owner + 1)] : byBlock)   // not ours alone (a shared file, no location): everyone's
                    list.Add(owner >= 0 ? OnMarkdownLine(d, trees[owner]) : new Problem(d.Id, d.Severity, d.ToString()));
            }
        }

        int Owner(Location location)
        {
            if (blocks.Length == 1)
                return 0;
            // The generator reports by file path and span (its results are cached across runs), not by tree.
            string path = location.GetLineSpan().Path;
            int index = Array.FindIndex(trees, t => t.FilePath == path);
            if (index >= 0 || location.SourceTree is null)
                return index;
            Match generated = GeneratedNamespace().Match(location.SourceTree.ToString());   // generated code sits in its block's namespace
            return generated.Success ? Array.FindIndex(blocks, b => b.Namespace == generated.Groups[1].Value) : -1;
        }
    }

    /// <summary>The diagnostic as text, on the markdown's line: the generator's path-and-span locations are mapped through the tree's #line too.</summary>
    private static Problem OnMarkdownLine(Diagnostic d, SyntaxTree tree)
    {
        if (d.Location.SourceTree is not null || d.Location.GetLineSpan().Path != tree.FilePath)
            return new Problem(d.Id, d.Severity, d.ToString());
        FileLinePositionSpan where = tree.GetMappedLineSpan(d.Location.SourceSpan);
        return new Problem(d.Id, d.Severity, $"{where.Path}({where.StartLinePosition.Line + 1},{where.StartLinePosition.Character + 1}): "
            + $"{d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage()}");
    }

    internal sealed record Problem(string Id, DiagnosticSeverity Severity, string Text)
    {
        public bool IsCacheGenWarning => Severity == DiagnosticSeverity.Warning && Id.StartsWith("CG", StringComparison.Ordinal);

        public override string ToString() => Text;
    }

    /// <summary>What a web project (Microsoft.NET.Sdk.Web) imports implicitly, and the docs' domain types.</summary>
    private static readonly SyntaxTree ImplicitUsings = CSharpSyntaxTree.ParseText($"""
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Net.Http.Json;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.AspNetCore.Routing;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        global using {typeof(Prelude.Post).Namespace};
        """, GeneratorHarness.ParseOptions, path: "ImplicitUsings.cs");

    /// <summary>What a fragment's reader is assumed to have imported: CacheGen and the libraries the docs use with it.</summary>
    private const string DocsUsings = """
        using System.ComponentModel;
        using System.Text.Json;
        using System.Text.Json.Serialization;
        using CacheGen;
        using CacheGen.AspNetCore;
        using CacheGen.EntityFrameworkCore;
        using Microsoft.EntityFrameworkCore;
        using Microsoft.Extensions.Caching.Hybrid;
        using OpenTelemetry;
        using OpenTelemetry.Metrics;
        using OpenTelemetry.Trace;

        """;

    /// <summary>
    /// .NET's reference assemblies (as <see cref="GeneratorHarness"/> has them), what else this test process runs on (the
    /// CacheGen runtime packages, EF Core, StackExchange.Redis, OpenTelemetry and this assembly, for the prelude; not the
    /// test tooling), then the ASP.NET Core shared framework installed next to this .NET for the assemblies that these
    /// do not have, as an app's build prefers the packages' newer files.
    /// </summary>
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        string netCore = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string[] packages = [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => Path.GetDirectoryName(path) != netCore && !Tooling().IsMatch(Path.GetFileName(path)))];
        var names = packages.Select(Path.GetFileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [
            .. Basic.Reference.Assemblies.Net100.References.All,
            .. packages.Concat(Directory.GetFiles(AspNetCoreFramework(netCore), "*.dll").Where(path => !names.Contains(Path.GetFileName(path))))
                .Select(path => MetadataReference.CreateFromFile(path)),
        ];
    });

    private static string AspNetCoreFramework(string netCore)   // .../shared/Microsoft.NETCore.App/<version>
    {
        string frameworks = Path.Combine(netCore, "..", "..", "Microsoft.AspNetCore.App");
        string sameVersion = Path.Combine(frameworks, Path.GetFileName(netCore));
        return Directory.Exists(sameVersion) ? sameVersion
            : Directory.Exists(frameworks) ? Directory.GetDirectories(frameworks).Order(StringComparer.Ordinal).Last()
            : throw new InvalidOperationException($"The docs' blocks need the ASP.NET Core runtime next to .NET in {netCore}");
    }

    [GeneratedRegex(@"^(xunit|Microsoft\.CodeAnalysis|Microsoft\.TestPlatform|Microsoft\.VisualStudio|testhost|Basic\.Reference|Newtonsoft|CacheGen\.Generator\.dll)", RegexOptions.IgnoreCase)]
    private static partial Regex Tooling();

    [GeneratedRegex(@"^(?<indent>\s*)(?<fence>`{3,}|~{3,})\s*(?<info>[^`\s]*)")]
    private static partial Regex OpeningFence();

    [GeneratedRegex(@"^<!--\s*(?<kind>not compiled|generated)\s*:?\s*(?<argument>.*?)\s*-->$")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^\s*//\s*(CG\d{4})\b")]
    private static partial Regex MisuseComment();

    [GeneratedRegex(@"^docs/diagnostics/(CG\d{4})\.md$")]
    private static partial Regex DiagnosticPage();

    [GeneratedRegex(@"\bnamespace\s+(DocBlock\d+)\b")]
    private static partial Regex GeneratedNamespace();
}
