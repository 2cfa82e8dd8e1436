using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace CacheGen.CodeFixes;

/// <summary>Small syntax edits the fixes share.</summary>
internal static class SyntaxEdits
{
    /// <summary>
    /// Adds <c>partial</c> as the last modifier (C# requires it right before the keyword or return type). With no
    /// modifiers, <c>partial</c> takes over the leading trivia of <paramref name="next"/>, the token after them.
    /// </summary>
    public static T WithPartial<T>(T node, SyntaxTokenList modifiers, SyntaxToken next, System.Func<T, SyntaxTokenList, T> withModifiers)
        where T : SyntaxNode
    {
        if (modifiers.Any(SyntaxKind.PartialKeyword))
            return node;
        if (modifiers.Count > 0)
            return withModifiers(node, modifiers.Add(Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(Space)));
        SyntaxToken partial = Token(next.LeadingTrivia, SyntaxKind.PartialKeyword, TriviaList(Space));
        T withoutTrivia = node.ReplaceToken(next, next.WithLeadingTrivia());
        return withModifiers(withoutTrivia, TokenList(partial));
    }

    public static TypeDeclarationSyntax WithPartial(TypeDeclarationSyntax type) =>
        WithPartial(type, type.Modifiers, type.Keyword, static (t, m) => t.WithModifiers(m));

    /// <summary>A fully qualified type name that the simplifier shortens (adding a using where one is needed).</summary>
    public static TypeSyntax QualifiedType(string fullName) =>
        ParseTypeName("global::" + fullName).WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation);

    /// <summary>
    /// The core method of <paramref name="method"/>, made from the method itself so its formatting survives: no
    /// attributes, <c>private</c> (plus static/async/unsafe as the original), renamed, without <c>this</c> on the
    /// first parameter. The caller sets its body.
    /// </summary>
    public static MethodDeclarationSyntax CoreMethod(MethodDeclarationSyntax method, string coreName)
    {
        MethodDeclarationSyntax core = method.WithAttributeLists(List<AttributeListSyntax>());
        SyntaxToken first = core.Modifiers.Count > 0 ? core.Modifiers[0] : core.ReturnType.GetFirstToken();
        SyntaxTriviaList indentation = first.LeadingTrivia;
        if (core.Modifiers.Count == 0)
            core = core.ReplaceToken(first, first.WithLeadingTrivia());
        var modifiers = TokenList(Token(indentation, SyntaxKind.PrivateKeyword, TriviaList(Space)));
        foreach (SyntaxToken modifier in method.Modifiers)
        {
            if (modifier.IsKind(SyntaxKind.StaticKeyword) || modifier.IsKind(SyntaxKind.AsyncKeyword) || modifier.IsKind(SyntaxKind.UnsafeKeyword))
                modifiers = modifiers.Add(Token(modifier.Kind()).WithTrailingTrivia(Space));
        }
        ParameterListSyntax parameters = core.ParameterList.WithParameters(SeparatedList(
            core.ParameterList.Parameters.Select(p => p.WithModifiers(TokenList(p.Modifiers.Where(m => !m.IsKind(SyntaxKind.ThisKeyword))))),
            core.ParameterList.Parameters.GetSeparators()));
        return core
            .WithModifiers(modifiers)
            .WithIdentifier(Identifier(method.Identifier.LeadingTrivia, coreName, method.Identifier.TrailingTrivia))
            .WithParameterList(parameters);
    }
}
