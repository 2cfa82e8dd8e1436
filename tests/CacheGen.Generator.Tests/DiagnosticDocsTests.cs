using System.Text.RegularExpressions;
using CacheGen.Generator.Analysis;
using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>Every diagnostic is documented, linked from its descriptor, and tracked in the analyzer release files.</summary>
public sealed class DiagnosticDocsTests
{
    internal static readonly string Root = FindRepositoryRoot();

    public static TheoryData<string> Ids() => [.. DiagnosticDescriptors.All.Select(d => d.Id)];

    [Theory]
    [MemberData(nameof(Ids))]
    public void HelpLink_names_a_document_with_every_section(string id)
    {
        DiagnosticDescriptor descriptor = DiagnosticDescriptors.All.Single(d => d.Id == id);
        Assert.Equal($"docs/diagnostics/{id}.md", descriptor.HelpLinkUri);
        string page = Path.Combine(Root, descriptor.HelpLinkUri);
        Assert.True(File.Exists(page), $"{page} is missing");
        string text = File.ReadAllText(page);
        Assert.StartsWith($"# {id}: ", text);
        string why = descriptor.DefaultSeverity == DiagnosticSeverity.Error ? "## Why it is an error" : "## Why it is a warning";
        foreach (string section in new[] { "## What it means", why, "## How to fix it", "## Example", "```csharp" })
            Assert.Contains(section, text);
        Assert.Contains($"[{id}]({id}.md)", File.ReadAllText(Path.Combine(Root, "docs/diagnostics/README.md")));
        // The front door links the index, which links every page.
        Assert.Contains("docs/diagnostics/README.md", File.ReadAllText(Path.Combine(Root, "README.md")));
    }

    [Fact]
    public void Analyzer_supports_only_what_needs_the_whole_app_and_ids_are_unique()
    {
        // The generator reports the rest (so they show beside C# errors); the analyzer's are warnings about a running app.
        var supported = new CacheGenAnalyzer().SupportedDiagnostics.Select(d => d.Id).ToArray();
        Assert.Equal(["CG0030", "CG0070", "CG0071"], supported);
        Assert.All(new CacheGenAnalyzer().SupportedDiagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.DefaultSeverity));
        var all = DiagnosticDescriptors.All.Select(d => d.Id).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.Equal(typeof(DiagnosticDescriptors).GetFields().Count(f => f.FieldType == typeof(DiagnosticDescriptor)), all.Length);
    }

    [Fact]
    public void ReleaseTracking_lists_every_id_once_with_its_severity()
    {
        string tracked = File.ReadAllText(Path.Combine(Root, "generator/CacheGen.Generator/AnalyzerReleases.Shipped.md"))
            + File.ReadAllText(Path.Combine(Root, "generator/CacheGen.Generator/AnalyzerReleases.Unshipped.md"));
        foreach (DiagnosticDescriptor descriptor in DiagnosticDescriptors.All)
        {
            var rows = Regex.Matches(tracked, $@"^{descriptor.Id} \| CacheGen \| (\w+) \|", RegexOptions.Multiline);
            Assert.Single(rows);
            Assert.Equal(descriptor.DefaultSeverity.ToString(), rows[0].Groups[1].Value);
        }
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CacheGen.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("CacheGen.sln not found above " + AppContext.BaseDirectory);
    }
}
