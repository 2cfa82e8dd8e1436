using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Tests.Infrastructure;

/// <summary>The shape of a diagnostic test: a misuse marked with <c>[| |]</c>, its fix, and what the message must name.</summary>
internal static class DiagnosticCheck
{
    /// <summary>
    /// <paramref name="id"/> fires once at the marked span, in the user's file, from the generator, or the analyzer for the
    /// diagnostics that need the whole app, with a message holding each of <paramref name="named"/>; no C# error in user or generated
    /// code; the corrected code is silent and compiles. <paramref name="otherSources"/> are compiled beside both.
    /// </summary>
    public static void Check(string prelude, string id, string misuse, string corrected, string[] named, DiagnosticSeverity severity,
        params string[] otherSources)
    {
        (string source, TextSpan expectedSpan) = ExtractSpan(prelude + misuse);
        GeneratorRun run = GeneratorHarness.Run([source, .. otherSources]);

        bool byGenerator = !DiagnosticDescriptors.ReportedByAnalyzer.Contains(DiagnosticDescriptors.ById(id));
        Diagnostic[] found = (byGenerator ? run.GeneratorDiagnostics : run.AnalyzerDiagnostics).Where(d => d.Id == id).ToArray();
        Assert.DoesNotContain(byGenerator ? run.AnalyzerDiagnostics : run.GeneratorDiagnostics, d => d.Id == id);
        Diagnostic diagnostic = Assert.Single(found);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.True(diagnostic.Location.SourceSpan == expectedSpan,
            $"{id} at {source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length)}, expected {source.Substring(expectedSpan.Start, expectedSpan.Length)}");
        Assert.Equal(severity, diagnostic.Severity);
        string message = diagnostic.GetMessage();
        Assert.DoesNotMatch(@"\{\d+\}", message);
        foreach (string part in named)
            Assert.Contains(part, message);

        // The generated code never carries a C# error, and a misuse brings no C# error of its own.
        Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);

        GeneratorRun fixedRun = GeneratorHarness.Run([prelude + corrected, .. otherSources]);
        Assert.Empty(fixedRun.CacheGenDiagnostics);
        Assert.Empty(fixedRun.CompilationDiagnostics);
        Assert.NotEmpty(fixedRun.Sources);
    }

    /// <summary>The source without its <c>[| |]</c> marks, and the span they enclosed.</summary>
    public static (string Source, TextSpan Span) ExtractSpan(string marked)
    {
        int start = marked.IndexOf("[|", StringComparison.Ordinal);
        int end = marked.IndexOf("|]", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "The misuse must mark the expected location with [| |].");
        return (marked.Remove(end, 2).Remove(start, 2), TextSpan.FromBounds(start, end - 2));
    }
}
