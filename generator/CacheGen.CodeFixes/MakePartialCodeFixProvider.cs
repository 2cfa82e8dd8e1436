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

/// <summary>
/// CG0001: turns an ordinary method with a body into a partial declaration and moves the body into a new core
/// method, which is what the generated implementation calls.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFixProvider)), Shared]
public sealed class MakePartialCodeFixProvider : CodeFixProvider
{
    private const string Title = "Make the method partial and move its body into a core method";

    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticDescriptors.NotPartialDeclaration.Id);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent is not MethodDeclarationSyntax method
            || method.Modifiers.Any(SyntaxKind.PartialKeyword) // a hand-written implementation part: nothing safe to do
            || (method.Body is null && method.ExpressionBody is null)
            || method.Parent is not TypeDeclarationSyntax)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => FixAsync(context.Document, root, method, ct), equivalenceKey: nameof(MakePartialCodeFixProvider)),
                diagnostic);
        }
    }

    private static Task<Document> FixAsync(Document document, SyntaxNode root, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string coreName = KnownNames.CoreNameOf(method.Identifier.ValueText);
        MethodDeclarationSyntax core = SyntaxEdits.CoreMethod(method, coreName);

        // The declaration keeps its attributes, doc comment and defaults; it loses its body and 'async'.
        SyntaxTriviaList bodyTrailing = method.Body?.GetTrailingTrivia() ?? method.SemicolonToken.TrailingTrivia;
        MethodDeclarationSyntax declaration = method
            .WithModifiers(TokenList(method.Modifiers.Where(m => !m.IsKind(SyntaxKind.AsyncKeyword))))
            .WithBody(null)
            .WithExpressionBody(null);
        declaration = method.ConstraintClauses.Count > 0
            ? declaration.WithConstraintClauses(List(declaration.ConstraintClauses.Select((c, i) => i == declaration.ConstraintClauses.Count - 1 ? c.WithoutTrailingTrivia() : c)))
            : declaration.WithParameterList(declaration.ParameterList.WithoutTrailingTrivia());
        declaration = declaration.WithSemicolonToken(Token(TriviaList(), SyntaxKind.SemicolonToken, bodyTrailing));
        declaration = SyntaxEdits.WithPartial(declaration, declaration.Modifiers, declaration.ReturnType.GetFirstToken(), static (m, mods) => m.WithModifiers(mods));

        SyntaxNode newRoot = root.ReplaceNode(method, new SyntaxNode[] { declaration, core });
        return Task.FromResult(document.WithSyntaxRoot(newRoot));
    }
}
