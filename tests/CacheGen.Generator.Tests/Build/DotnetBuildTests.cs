using System.Diagnostics;
using System.Text.RegularExpressions;

namespace CacheGen.Generator.Tests.Build;

/// <summary>
/// Runs the real <c>dotnet build</c> on a throw-away project that uses the generator as a user's project does (an
/// analyzer reference to the built CacheGen.Generator.dll, a reference to CacheGen.dll): the compiler skips analyzers
/// when a compilation has errors, which no in-memory harness shows.
/// </summary>
public sealed partial class DotnetBuildTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("cachegen-build-").FullName;

    /// <summary>One file per misuse, each expected to give exactly one error, at that file.</summary>
    private static readonly Dictionary<string, string> Misuses = new()
    {
        ["CG0001"] = """
            public partial class NotPartialMethod(HybridCache cache)
            {
                [Cached("items")]
                public Task<int> GetAsync(int id) => GetCoreAsync(id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0003"] = """
            public partial class MissingCore(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
            }
            """,
        ["CG0004"] = """
            public partial class CoreMismatch(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(long id) => Task.FromResult((int)id);
            }
            """,
        ["CG0005"] = """
            public partial class VoidCached(HybridCache cache)
            {
                [Cached("items")]
                public partial void Refresh(int id);
                private void RefreshCore(int id) { }
            }
            """,
        ["CG0006"] = """
            public partial class RefParameter(HybridCache cache)
            {
                [InvalidatesCache("items")]
                public partial void Remove(ref int id);
                private void RemoveCore(ref int id) { }
            }
            """,
        ["CG0007"] = """
            public partial class UnknownPlaceholder(HybridCache cache)
            {
                [Cached("items", Key = "item:{itemId}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0008"] = """
            public partial class NoCache
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0009"] = """
            public partial class TwoCaches(HybridCache primary, HybridCache secondary)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0010"] = """
            public partial class EmptyRegion(HybridCache cache)
            {
                [Cached("")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0011"] = """
            public partial class NegativeTtl(HybridCache cache)
            {
                [Cached("items", TtlSeconds = -1)]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0012"] = """
            public sealed class Query { public int Page { get; init; } }
            public partial class NoTextForm(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> FindAsync(Query query);
                private Task<int> FindCoreAsync(Query query) => Task.FromResult(query.Page);
            }
            """,
        ["CG0014"] = """
            public partial class KeyedTwoRegions(HybridCache cache)
            {
                [InvalidatesCache("items", "lists", Key = "item:{id}")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """,
        ["CG0015"] = """
            public partial class BothAttributes(HybridCache cache)
            {
                [Cached("items")]
                [InvalidatesCache("items")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0016"] = """
            public partial class MalformedKey(HybridCache cache)
            {
                [Cached("items", Key = "item:{id")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0017"] = """
            public partial class HiddenCache(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int cache);
                private Task<int> GetCoreAsync(int cache) => Task.FromResult(cache);
            }
            """,
        ["CG0019"] = """
            public partial class AsyncSequence(HybridCache cache)
            {
                [InvalidatesCache("items")]
                public partial IAsyncEnumerable<int> ImportAsync(int id);
                private async IAsyncEnumerable<int> ImportCoreAsync(int id) { await Task.Yield(); yield return id; }
            }
            """,
        ["CG0024"] = """
            public partial class UnknownTag(HybridCache cache)
            {
                [InvalidatesCache(Tags = ["widget:{id}"])]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """,
        ["CG0027"] = """
            public partial class TypedEvictionMismatch(HybridCache cache)
            {
                [Cached("items", Key = "item:{id}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [InvalidatesCache(Method = nameof(GetAsync))]
                public partial Task SaveAsync(long id);
                private Task SaveCoreAsync(long id) => Task.CompletedTask;
            }
            """,
        ["CG0040"] = """
            public partial class BatchOfNothing(HybridCache cache)
            {
                [CachedBatch("FindAsync")]
                public partial Task<System.Collections.Generic.IReadOnlyDictionary<int, int>> GetManyAsync(System.Collections.Generic.IReadOnlyList<int> ids);
                private Task<System.Collections.Generic.IReadOnlyDictionary<int, int>> GetManyCoreAsync(System.Collections.Generic.IReadOnlyList<int> ids) => null!;
            }
            """,
        ["CG0042"] = """
            public partial class BatchOfLongs(HybridCache cache)
            {
                [Cached("items", Key = "item:{id}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [CachedBatch(nameof(GetAsync))]
                public partial Task<System.Collections.Generic.IReadOnlyDictionary<int, int>> GetManyAsync(System.Collections.Generic.IReadOnlyList<long> ids);
                private Task<System.Collections.Generic.IReadOnlyDictionary<int, int>> GetManyCoreAsync(System.Collections.Generic.IReadOnlyList<long> ids) => null!;
            }
            """,
        ["CG0050"] = """
            public partial class JitterOutOfRange(HybridCache cache)
            {
                [Cached("items", TtlSeconds = 60, JitterPercent = 100)]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        ["CG0051"] = """
            public partial class TtlFromWithTtl(HybridCache cache)
            {
                [Cached("items", TtlSeconds = 60, TtlFrom = nameof(LifetimeOf))]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                private static TimeSpan LifetimeOf(int value) => TimeSpan.FromSeconds(value);
            }
            """,
        ["CG0052"] = """
            public partial class TtlFromNotStatic(HybridCache cache)
            {
                [Cached("items", TtlFrom = nameof(LifetimeOf))]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                private TimeSpan LifetimeOf(int value) => TimeSpan.FromSeconds(value);
            }
            """,
        ["CG0053"] = """
            public partial class ResultInKey(HybridCache cache)
            {
                [Cached("items", Key = "item:{result}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            }
            """,
        // Not partial: the compiler's own errors (CS0751 and friends) come too, and used to hide every CG diagnostic.
        ["CG0002"] = """
            public class NotPartialType(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [InvalidatesCache("items")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """,
    };

    private const string Usings = """
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        """;

    [Fact]
    public void Every_misuse_is_one_CG_error_at_its_file_beside_CSharp_errors_and_none_in_generated_code()
    {
        string project = CreateProject("misuses");
        foreach ((string id, string source) in Misuses)
            File.WriteAllText(Path.Combine(project, id + ".cs"), Usings + source);
        // A type typo: the user's CS0246, which generated code must not repeat.
        File.WriteAllText(Path.Combine(project, "Typo.cs"), Usings + """
            public partial class Typo(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<Pst> GetAsync(int id);
                private Task<Pst> GetCoreAsync(int id) => null!;
            }
            """);
        // Warnings show beside the C# errors too (analyzers would not run): a region no method caches, and the same
        // misuse under #pragma warning disable, which must stay silent.
        File.WriteAllText(Path.Combine(project, "Warning.cs"), Usings + """
            public partial class UnusedRegion(HybridCache cache)
            {
                [InvalidatesCache("archive")]
                public partial Task ArchiveAsync(int id);
                private Task ArchiveCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        File.WriteAllText(Path.Combine(project, "Suppressed.cs"), Usings + """
            public partial class ElsewhereRegion(HybridCache cache)
            {
            #pragma warning disable CG0013 // another assembly caches it
                [InvalidatesCache("elsewhere")]
            #pragma warning restore CG0013
                public partial Task TouchAsync(int id);
                private Task TouchCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        // And correct code beside it, which must still compile.
        File.WriteAllText(Path.Combine(project, "Valid.cs"), Usings + """
            public partial class Valid(HybridCache cache)
            {
                [Cached("items", Key = "item:{id}")]
                public partial Task<int> GetAsync(int id, CancellationToken ct = default);
                private Task<int> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult(id);
                [InvalidatesCache("items")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """);

        (int exitCode, string output) = Build(project);
        Assert.NotEqual(0, exitCode);
        BuildDiagnostic[] diagnostics = Parse(output);
        string all = string.Join("\n", diagnostics.Select(d => d.ToString()));

        Assert.Contains(diagnostics, d => d.Id.StartsWith("CS", StringComparison.Ordinal) && d.File == "CG0002.cs");
        Assert.Contains(diagnostics, d => d.Id == "CS0246" && d.File == "Typo.cs");
        foreach (string id in Misuses.Keys)
        {
            BuildDiagnostic[] cg = diagnostics.Where(d => d.Id.StartsWith("CG", StringComparison.Ordinal) && d.Severity == "error" && d.File == id + ".cs").ToArray();
            Assert.True(cg.Length == 1 && cg[0].Id == id, $"{id}.cs: expected one error {id}, got:\n{all}");
        }
        BuildDiagnostic[] allCg = diagnostics.Where(d => d.Id.StartsWith("CG", StringComparison.Ordinal) && d.Severity == "error").ToArray();
        Assert.True(allCg.Length == Misuses.Count, $"expected {Misuses.Count} CG errors, got:\n{all}");
        // The warnings: the one in Warning.cs, and CG0014's second region ("lists", cached nowhere here); none suppressed.
        BuildDiagnostic[] warnings = diagnostics.Where(d => d.Id.StartsWith("CG", StringComparison.Ordinal) && d.Severity == "warning").ToArray();
        Assert.True(warnings.Select(w => (w.Id, w.File)).Distinct().Order().SequenceEqual([("CG0013", "CG0014.cs"), ("CG0013", "Warning.cs")]),
            $"expected CG0013 in Warning.cs and CG0014.cs only, got:\n{all}");
        Assert.DoesNotContain(diagnostics, d => d.File.EndsWith(".g.cs", StringComparison.Ordinal));
        Assert.DoesNotContain(diagnostics, d => d.File is "Valid.cs");
    }

    [Fact]
    public void Without_analyzers_a_missing_core_method_still_fails_the_build()
    {
        string project = CreateProject("no-analyzers");
        File.WriteAllText(Path.Combine(project, "Service.cs"), Usings + Misuses["CG0003"]);

        (int exitCode, string output) = Build(project, "-p:RunAnalyzers=false");
        Assert.NotEqual(0, exitCode);
        BuildDiagnostic error = Assert.Single(Parse(output), d => d.Severity == "error");
        Assert.Equal(("CG0003", "Service.cs"), (error.Id, error.File));
    }

    [Fact]
    public void Caching_an_EF_Core_entity_is_a_CG0030_warning_and_a_DTO_is_not_with_the_real_EF_Core()
    {
        string project = CreateProject("entities", references: ["Microsoft.EntityFrameworkCore.dll", "Microsoft.EntityFrameworkCore.Abstractions.dll"]);
        File.WriteAllText(Path.Combine(project, "Shop.cs"), Usings + """
            using Microsoft.EntityFrameworkCore;

            public sealed class Book { public int Id { get; set; } public string Title { get; set; } = ""; }
            [System.ComponentModel.ImmutableObject(true)] public sealed record BookDto(int Id, string Title);
            public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
            {
                public DbSet<Book> Books => Set<Book>();
            }
            public sealed partial class BookService(ShopContext db, HybridCache cache)
            {
                [Cached("books", Key = "book:{id}")]
                public partial Task<Book?> GetAsync(int id);
                private Task<Book?> GetCoreAsync(int id) => db.Books.FirstOrDefaultAsync(b => b.Id == id);

                [Cached("books")]
                public partial Task<List<BookDto>> ListAsync();
                private Task<List<BookDto>> ListCoreAsync() => db.Books.Select(b => new BookDto(b.Id, b.Title)).ToListAsync();
            }
            """);

        (int exitCode, string output) = Build(project);

        Assert.True(exitCode == 0, output);
        BuildDiagnostic warning = Assert.Single(Parse(output), d => d.Id == "CG0030"); // GetAsync's, not ListAsync's
        Assert.Equal(("Shop.cs", 15, "warning"), (warning.File, warning.Line, warning.Severity));
        Assert.StartsWith("'GetAsync' caches 'Book', an EF Core entity type ('ShopContext' has a DbSet<Book>)", warning.Message);
    }

    [Fact]
    public void An_app_that_forgets_AddCacheGen_builds_with_a_CG0070_warning_at_its_service_collection()
    {
        string project = CreateProject("forgotten", ["Microsoft.Extensions.DependencyInjection.dll", "Microsoft.Extensions.DependencyInjection.Abstractions.dll"], exe: true);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using CacheGen;
            using Microsoft.Extensions.Caching.Hybrid;
            using Microsoft.Extensions.DependencyInjection;

            var services = new ServiceCollection();
            services.AddSingleton<BookService>();
            Console.WriteLine(services.Count);

            [System.ComponentModel.ImmutableObject(true)] public sealed record Book(int Id, string Title);
            public sealed partial class BookService(HybridCache cache)
            {
                [Cached("books", Key = "book:{id}")]
                public partial Task<Book> GetAsync(int id);
                private Task<Book> GetCoreAsync(int id) => Task.FromResult(new Book(id, "Dune"));
            }
            """);

        (int exitCode, string output) = Build(project);

        Assert.True(exitCode == 0, output);
        BuildDiagnostic warning = Assert.Single(Parse(output), d => d.Id == "CG0070");
        Assert.Equal(("Program.cs", 5, "warning"), (warning.File, warning.Line, warning.Severity));
        Assert.Contains("call AddCacheGen()", warning.Message);
    }

    private string CreateProject(string name, string[]? references = null, bool exe = false)
    {
        string directory = Path.Combine(_work, name);
        Directory.CreateDirectory(directory);
        // The assemblies this test runs against: the generator under test and the CacheGen runtime it was built with.
        string here = AppContext.BaseDirectory;
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <OutputType>{(exe ? "Exe" : "Library")}</OutputType>
              </PropertyGroup>
              <ItemGroup>
                <Analyzer Include="{Path.Combine(here, "CacheGen.Generator.dll")}" />
                <Reference Include="{Path.Combine(here, "CacheGen.dll")}" />
                <Reference Include="{Path.Combine(here, "Microsoft.Extensions.Caching.Abstractions.dll")}" />
                {string.Concat((references ?? []).Select(r => $"<Reference Include=\"{Path.Combine(here, r)}\" />"))}
              </ItemGroup>
            </Project>
            """);
        // Nothing to download: the project names no package, and restore gets no source to try.
        File.WriteAllText(Path.Combine(directory, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /></packageSources></configuration>
            """);
        return directory;
    }

    private static (int ExitCode, string Output) Build(string project, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = project, RedirectStandardOutput = true, RedirectStandardError = true };
        // One line per diagnostic (no terminal logger), and no build server outliving the test.
        foreach (string argument in new[] { "build", "-nologo", "-tl:off", "-v:minimal", "-nodeReuse:false", "-p:UseSharedCompilation=false" }.Concat(extra))
            start.ArgumentList.Add(argument);
        foreach (string variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
            start.Environment.Remove(variable);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet build did not finish in 3 minutes");
        }
        // Each diagnostic as the build reports it, without the summary after "Build FAILED." that repeats them all.
        _ = stderr.Result;
        string output = stdout.Result.Replace("\r", "");
        int summary = Regex.Match(output, @"^Build (FAILED|succeeded)\.$", RegexOptions.Multiline) is { Success: true } match ? match.Index : output.Length;
        return (process.ExitCode, output[..summary]);
    }

    private sealed record BuildDiagnostic(string File, int Line, string Severity, string Id, string Message)
    {
        public override string ToString() => $"{File}({Line}): {Severity} {Id}: {Message}";
    }

    [GeneratedRegex(@"^(?<path>[^\s(][^(]*)\((?<line>\d+),\d+\): (?<severity>error|warning) (?<id>[A-Z]+\d+): (?<message>.*?)(?: \[[^\]]*\])?$", RegexOptions.Multiline)]
    private static partial Regex DiagnosticLine();

    private static BuildDiagnostic[] Parse(string output) =>
        DiagnosticLine().Matches(output.Replace("\r", ""))
            .Select(m => new BuildDiagnostic(Path.GetFileName(m.Groups["path"].Value.Trim()), int.Parse(m.Groups["line"].Value),
                m.Groups["severity"].Value, m.Groups["id"].Value, m.Groups["message"].Value))
            .ToArray();

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
