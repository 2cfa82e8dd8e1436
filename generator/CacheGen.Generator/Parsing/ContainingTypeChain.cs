using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// The types around generated members, outermost first, as the generated partial declarations must repeat them:
/// keyword (record struct, struct, interface, class), name and type parameters with their variance.
/// </summary>
internal static class ContainingTypeChain
{
    /// <param name="type">The innermost type.</param>
    /// <param name="declaration">The innermost type's declaration; the walk stops where the syntax is no longer a type.</param>
    /// <param name="innermostIsUnsafe">
    /// Pointers in the generated signature need an unsafe context, which the user's declaration may have given only
    /// to its own part.
    /// </param>
    public static EquatableArray<ContainingTypeModel> Of(INamedTypeSymbol? type, SyntaxNode? declaration, bool innermostIsUnsafe)
    {
        var types = new List<ContainingTypeModel>();
        INamedTypeSymbol? symbol = type;
        for (SyntaxNode? node = declaration; node is TypeDeclarationSyntax syntax && symbol is not null; node = node.Parent, symbol = symbol.ContainingType)
        {
            string unsafeModifier = innermostIsUnsafe && node == declaration ? "unsafe " : "";
            types.Insert(0, new ContainingTypeModel(unsafeModifier + (symbol.IsRefLikeType ? "ref " : ""), KeywordOf(syntax), Parser.Escape(symbol.Name),
                TypeParametersOf(symbol)));
        }
        return types.ToEquatableArray();
    }

    private static string KeywordOf(TypeDeclarationSyntax syntax) => syntax switch
    {
        RecordDeclarationSyntax record => record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
        StructDeclarationSyntax => "struct",
        InterfaceDeclarationSyntax => "interface",
        _ => "class",
    };

    private static string TypeParametersOf(INamedTypeSymbol symbol) =>
        symbol.TypeParameters.Length == 0
            ? ""
            : "<" + string.Join(", ", symbol.TypeParameters.Select(t => t.Variance switch
            {
                VarianceKind.In => "in " + t.Name,
                VarianceKind.Out => "out " + t.Name,
                _ => t.Name,
            })) + ">";
}
