using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace CacheGen.CodeFixes;

/// <summary>CG0003: adds the missing core method, with the right signature and a body that throws until it is written.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddCoreMethodCodeFixProvider)), Shared]
public sealed class AddCoreMethodCodeFixProvider : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticDescriptors.MissingCoreMethod.Id);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent is not MethodDeclarationSyntax method || method.Parent is not TypeDeclarationSyntax)
            return;
        string coreName = KnownNames.CoreNameOf(method.Identifier.ValueText);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create($"Generate core method '{coreName}'", ct => FixAsync(context.Document, root, method, coreName, ct),
                    equivalenceKey: nameof(AddCoreMethodCodeFixProvider)),
                diagnostic);
        }
    }

    private static Task<Document> FixAsync(Document document, SyntaxNode root, MethodDeclarationSyntax method, string coreName, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArrowExpressionClauseSyntax body = ArrowExpressionClause(ThrowExpression(
                ObjectCreationExpression(SyntaxEdits.QualifiedType("System.NotImplementedException")).WithArgumentList(ArgumentList())))
            .WithAdditionalAnnotations(Formatter.Annotation);
        MethodDeclarationSyntax core = SyntaxEdits.CoreMethod(method, coreName);
        core = core.ConstraintClauses.Count > 0
            ? core.WithConstraintClauses(List(core.ConstraintClauses.Select((c, i) => i == core.ConstraintClauses.Count - 1 ? c.WithTrailingTrivia(Space) : c)))
            : core.WithParameterList(core.ParameterList.WithTrailingTrivia(Space));
        core = core.WithExpressionBody(body);
        return Task.FromResult(document.WithSyntaxRoot(root.InsertNodesAfter(method, new[] { core })));
    }
}
