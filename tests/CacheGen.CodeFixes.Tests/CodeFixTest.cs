using Basic.Reference.Assemblies;
using CacheGen.Generator.Analysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.CodeFixes.Tests;

/// <summary>
/// A code-fix test of one fix against what CacheGen reports (<see cref="GeneratorDiagnostics"/>), compiled against reference assemblies that ship
/// inside test packages (Basic.Reference.Assemblies), so nothing is downloaded while tests run.
/// </summary>
public sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<GeneratorDiagnostics, TCodeFix, DefaultVerifier>
    where TCodeFix : CodeFixProvider, new()
{
    /// <summary>
    /// No reference-assembly package, and a NuGet configuration with no package source: the testing library only
    /// downloads when a <see cref="ReferenceAssemblies"/> names a package, and if this one ever did, the download
    /// would fail instead of silently reaching the network (see <c>OfflineTests</c>).
    /// </summary>
    public static readonly ReferenceAssemblies Offline = new ReferenceAssemblies("net10.0")
        .WithNuGetConfigFilePath(Path.Combine(AppContext.BaseDirectory, "nuget.offline.config"));

    public CodeFixTest()
    {
        ReferenceAssemblies = Offline;
        TestState.AdditionalReferences.AddRange(Net100.References.All);
        TestState.AdditionalReferences.Add(typeof(CachedAttribute).Assembly.Location);
        TestState.AdditionalReferences.Add(typeof(HybridCache).Assembly.Location);
        // The generator runs only inside GeneratorDiagnostics, so partial declarations have no implementation
        // (CS8795) and a type without one is fine; the fixes are judged by CacheGen's own diagnostics.
        CompilerDiagnostics = CompilerDiagnostics.None;
        // CacheGen analyzes the user's partial declaration even though, once generated, it carries [GeneratedCode].
        TestBehaviors |= TestBehaviors.SkipGeneratedCodeCheck;
        SolutionTransforms.Add((solution, projectId) =>
        {
            Project project = solution.GetProject(projectId)!;
            var parse = (CSharpParseOptions)project.ParseOptions!;
            var options = (CSharpCompilationOptions)project.CompilationOptions!;
            return solution
                .WithProjectParseOptions(projectId, parse.WithLanguageVersion(LanguageVersion.CSharp12))
                .WithProjectCompilationOptions(projectId, options.WithNullableContextOptions(NullableContextOptions.Enable));
        });
    }

    /// <param name="iterations">How many single fixes it takes (one per diagnostic); Fix All takes one pass.</param>
    public static Task RunAsync(string source, string fixedSource, int iterations = 1) =>
        new CodeFixTest<TCodeFix>
        {
            TestCode = source,
            FixedCode = fixedSource,
            NumberOfIncrementalIterations = iterations,
            NumberOfFixAllIterations = 1,
        }.RunAsync();
}
