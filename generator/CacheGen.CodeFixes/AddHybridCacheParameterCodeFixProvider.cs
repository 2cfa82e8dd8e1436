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
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace CacheGen.CodeFixes;

/// <summary>
/// CG0008: gives the type a <c>HybridCache</c> primary-constructor parameter (appended to an existing primary
/// constructor, or a new one when the type declares no constructors), so DI supplies the cache.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddHybridCacheParameterCodeFixProvider)), Shared]
public sealed class AddHybridCacheParameterCodeFixProvider : CodeFixProvider
{
    private const string Title = "Add a HybridCache primary-constructor parameter";
    private const string HybridCache = "Microsoft.Extensions.Caching.Hybrid.HybridCache";

    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticDescriptors.MissingHybridCache.Id);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        Document document = context.Document;
        SyntaxNode? root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SemanticModel? model = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent is not MethodDeclarationSyntax method || model is null
            || model.GetDeclaredSymbol(method, context.CancellationToken) is not { IsStatic: false, ContainingType: { } type }
            || model.Compilation.GetTypeByMetadataName(HybridCache) is null
            || type.TypeKind is not (TypeKind.Class or TypeKind.Struct))
            return;

        // The part that already has a primary constructor, else the part declaring the method if the type has no
        // constructors of its own (adding a primary one would otherwise need every constructor to chain to it).
        TypeDeclarationSyntax? target = null;
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(context.CancellationToken) is TypeDeclarationSyntax { ParameterList: not null } part)
                target = part;
        }
        if (target is null)
        {
            if (type.InstanceConstructors.Any(c => !c.IsImplicitlyDeclared) || method.Parent is not TypeDeclarationSyntax declaring)
                return;
            target = declaring;
        }
        Document targetDocument = document.Project.Solution.GetDocument(target.SyntaxTree) ?? document;
        string name = UnusedName(type, target);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => FixAsync(targetDocument, target, name, ct), equivalenceKey: nameof(AddHybridCacheParameterCodeFixProvider)),
                diagnostic);
        }
    }

    private static string UnusedName(INamedTypeSymbol type, TypeDeclarationSyntax target)
    {
        foreach (string candidate in new[] { "cache", "hybridCache" })
        {
            if (type.GetMembers(candidate).IsEmpty && target.ParameterList?.Parameters.Any(p => p.Identifier.ValueText == candidate) != true)
                return candidate;
        }
        return "cacheGenCache";
    }

    private static async Task<Document> FixAsync(Document document, TypeDeclarationSyntax type, string name, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        ParameterSyntax parameter = Parameter(Identifier(name)).WithType(SyntaxEdits.QualifiedType(HybridCache).WithTrailingTrivia(Space));
        TypeDeclarationSyntax updated;
        if (type.ParameterList is { } list)
        {
            updated = type.WithParameterList(list.AddParameters(parameter));
        }
        else
        {
            // 'class Service' -> 'class Service(HybridCache cache)': the identifier's (or type parameters') trailing
            // trivia moves after the new list.
            SyntaxToken last = type.TypeParameterList?.GetLastToken() ?? type.Identifier;
            ParameterListSyntax newList = ParameterList(SingletonSeparatedList(parameter)).WithTrailingTrivia(last.TrailingTrivia);
            updated = type.ReplaceToken(last, last.WithTrailingTrivia()).WithParameterList(newList);
        }
        // The simplifier shortens the qualified name once the import is there (it runs when the fix is applied).
        Document changed = document.WithSyntaxRoot(root.ReplaceNode(type, updated));
        return await ImportAdder.AddImportsAsync(changed, Simplifier.AddImportsAnnotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
