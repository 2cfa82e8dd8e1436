using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Every generated key starts with <c>{region}:</c>, the first Redis Cluster hash tag of the key, so the entry, its
/// lease and its region's generation share a slot. A region that could break that tag is CG0010; braces in arguments
/// or in a template's literal text come after it and cannot move the slot.
/// </summary>
public sealed class RegionHashTagTests
{
    private const string Prelude = """
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        public static class Names
        {
            public const string Closed = "posts}";
            public const string Blank = "   ";
        }

        """;

    public static TheoryData<string> BadRegions() =>
    [
        "\"\"", "\" \"", "\"\\t\"", "\"\\u00A0\"", "\"{\"", "\"}\"", "\"{posts}\"", "\"}posts\"", "\"a{b\"", "\"a}b\"", "null",
        "Names.Closed", "Names.Blank", "\"po\" + \"{\"",
    ];

    [Theory]
    [MemberData(nameof(BadRegions))]
    public void Cached_with_a_region_that_could_break_its_hash_tag_is_CG0010(string region) => AssertInvalidRegion(
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached([|{{region}}|])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Theory]
    [MemberData(nameof(BadRegions))]
    public void InvalidatesCache_with_a_region_that_could_break_its_hash_tag_is_CG0010(string region) => AssertInvalidRegion(
        $$"""
        public partial class Service(HybridCache cache)
        {
            [InvalidatesCache("posts", [|{{region}}|])]
            public partial Task SaveAsync(int id);
            private Task SaveCoreAsync(int id) => Task.CompletedTask;
        }
        """);

    [Theory]
    [InlineData("posts")]
    [InlineData("posts:v2")]
    [InlineData("p|q")]
    [InlineData("a b")]
    [InlineData("*?[]\\")]
    [InlineData("é")]
    public void ValidRegion_IsTheFirstHashTagOfEveryKey(string region)
    {
        string literal = SymbolDisplay.FormatLiteral(region, quote: true);
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$$"""
            public partial class Service(HybridCache cache)
            {
                [Cached({{{literal}}})]
                public partial Task<int> GetAsync(string? name, int id);
                private Task<int> GetCoreAsync(string? name, int id) => Task.FromResult(id);

                [Cached({{{literal}}}, Key = "{{tenant}}:{name}:{id}")]
                public partial Task<int> GetByTemplateAsync(string? name, int id);
                private Task<int> GetByTemplateCoreAsync(string? name, int id) => Task.FromResult(id);

                [InvalidatesCache({{{literal}}}, Key = "{{tenant}}:{name}:{id}")]
                public partial Task SaveAsync(string? name, int id);
                private Task SaveCoreAsync(string? name, int id) => Task.CompletedTask;
            }
            """);

        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        string tag = SymbolDisplay.FormatLiteral("{" + region + "}:", quote: true).TrimEnd('"');
        Assert.Contains($"__key.AppendLiteral({tag}App.Service.GetAsync(string, int)\");", run.Source("App.Service.GetAsync"));
        // The template's own braces are literal text after the region's tag.
        Assert.Contains($"__key.AppendLiteral({tag}{{tenant}}:\");", run.Source("App.Service.GetByTemplateAsync"));
        Assert.Contains($"__key.AppendLiteral({tag}{{tenant}}:\");", run.Source("App.Service.SaveAsync"));
        Assert.Contains($"new(\"App.Service.GetAsync\", {literal}, null)", run.Source("App.Service.GetAsync"));
    }

    private static void AssertInvalidRegion(string misuse)
    {
        string marked = Prelude + misuse;
        int start = marked.IndexOf("[|", StringComparison.Ordinal);
        int end = marked.IndexOf("|]", StringComparison.Ordinal) - 2;
        GeneratorRun run = GeneratorHarness.Run(marked.Replace("[|", "").Replace("|]", ""));

        Diagnostic diagnostic = Assert.Single(run.CacheGenDiagnostics, d => d.Id == "CG0010");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(start, diagnostic.Location.SourceSpan.Start);
        Assert.Equal(end, diagnostic.Location.SourceSpan.End);
        // The method is not implemented with a broken key: no generated code calls the cache, none fails to compile.
        var generated = run.Output.SyntaxTrees.Except(run.Input.SyntaxTrees).ToArray();
        Assert.DoesNotContain(generated, tree => tree.ToString().Contains("AppendLiteral(", StringComparison.Ordinal) || tree.ToString().Contains("RemoveByTag", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error && generated.Contains(d.Location.SourceTree));
    }
}
