using System.Collections.Immutable;
using CacheGen.Generator;
using CacheGen.Generator.Analysis;
using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

// A test double that only runs inside the test host; CacheGenAnalyzer.Initialize configures generated-code analysis
// and concurrency on the shared context.
#pragma warning disable RS1025, RS1026, RS1036, RS1038, RS1041

namespace CacheGen.CodeFixes.Tests;

/// <summary>
/// Everything CacheGen reports on a document, as the IDE shows it: the generator's errors and the analyzer's warnings.
/// The testing library drives fixes from analyzer diagnostics only, so this test analyzer runs
/// <see cref="CacheGenerator"/> over the compilation and reports its errors, each in the syntax tree its path names
/// (as the IDE maps a generator's diagnostics to their documents), besides running <see cref="CacheGenAnalyzer"/>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GeneratorDiagnostics : DiagnosticAnalyzer
{
    private readonly CacheGenAnalyzer _analyzer = new();

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.All;

    public override void Initialize(AnalysisContext context)
    {
        _analyzer.Initialize(context);
        context.RegisterCompilationStartAction(static start =>
        {
            var generated = new Lazy<ImmutableArray<Diagnostic>>(() => RunGenerator(start.Compilation));
            // Reported per tree, so that each diagnostic is local to its document and its code fix can apply.
            start.RegisterSyntaxTreeAction(tree =>
            {
                foreach (Diagnostic diagnostic in generated.Value)
                {
                    if (diagnostic.Location.GetLineSpan().Path != tree.Tree.FilePath)
                        continue;
                    DiagnosticDescriptor descriptor = diagnostic.Descriptor;
                    tree.ReportDiagnostic(Diagnostic.Create(descriptor.Id, descriptor.Category, diagnostic.GetMessage(), diagnostic.Severity,
                        descriptor.DefaultSeverity, descriptor.IsEnabledByDefault, warningLevel: 0, descriptor.Title, descriptor.Description,
                        descriptor.HelpLinkUri, Location.Create(tree.Tree, diagnostic.Location.SourceSpan)));
                }
            });
        });
    }

    private static ImmutableArray<Diagnostic> RunGenerator(Compilation compilation)
    {
        var parseOptions = (CSharpParseOptions?)compilation.SyntaxTrees.FirstOrDefault()?.Options;
        CSharpGeneratorDriver.Create([new CacheGenerator().AsSourceGenerator()], parseOptions: parseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out _, out ImmutableArray<Diagnostic> diagnostics);
        return diagnostics;
    }
}
