using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.CodeFixes;

/// <summary>CG0002 and CG0063 (a decorator): adds <c>partial</c> to the reported type and to every type it is nested in.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakeTypesPartialCodeFixProvider)), Shared]
public sealed class MakeTypesPartialCodeFixProvider : CodeFixProvider
{
    private const string Title = "Make the containing types partial";

    public override ImmutableArray<string> FixableDiagnosticIds =>
        ImmutableArray.Create(DiagnosticDescriptors.ContainingTypeNotPartial.Id, DiagnosticDescriptors.DecoratorNotPartial.Id);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent is not TypeDeclarationSyntax type)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => FixAsync(context.Document, root, type, ct), equivalenceKey: nameof(MakeTypesPartialCodeFixProvider)),
                diagnostic);
        }
    }

    private static Task<Document> FixAsync(Document document, SyntaxNode root, TypeDeclarationSyntax type, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The generated part re-declares every type around a CacheGen method or a [CacheDecorator] class: the
        // reported type, the types it is nested in, and the types inside it that lead to such a method or class.
        var inner = type.DescendantNodes().OfType<MethodDeclarationSyntax>()
            .Where(IsCacheGenMethod)
            .SelectMany(m => m.Ancestors().OfType<TypeDeclarationSyntax>().TakeWhile(t => t != type))
            .Concat(type.DescendantNodes().OfType<TypeDeclarationSyntax>().Where(IsDecorator)
                .SelectMany(d => d.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().TakeWhile(t => t != type)));
        TypeDeclarationSyntax[] types = type.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().Concat(inner)
            .Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)).Distinct().ToArray();
        SyntaxNode newRoot = root.ReplaceNodes(types, static (_, rewritten) => SyntaxEdits.WithPartial(rewritten));
        return Task.FromResult(document.WithSyntaxRoot(newRoot));
    }

    private static bool IsDecorator(TypeDeclarationSyntax type) =>
        type.AttributeLists.SelectMany(l => l.Attributes).Any(a => a.Name.ToString() is var name
            && (name.EndsWith("CacheDecorator", System.StringComparison.Ordinal) || name.EndsWith("CacheDecoratorAttribute", System.StringComparison.Ordinal)));

    // By name is enough here: the diagnostic already established that the type holds a CacheGen method.
    private static bool IsCacheGenMethod(MethodDeclarationSyntax method) =>
        method.AttributeLists.SelectMany(l => l.Attributes).Any(a => a.Name.ToString() is var name
            && (name.EndsWith("Cached", System.StringComparison.Ordinal) || name.EndsWith("CachedAttribute", System.StringComparison.Ordinal)
                || name.EndsWith("InvalidatesCache", System.StringComparison.Ordinal) || name.EndsWith("InvalidatesCacheAttribute", System.StringComparison.Ordinal)));
}
