using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Analysis;

/// <summary>
/// The EF Core entity types of a compilation: the <c>T</c> of every <c>DbSet&lt;T&gt;</c> property of a
/// <c>DbContext</c> declared in it (CG0030). Found by symbols, once per compilation and only when a cached method asks;
/// a compilation that does not reference EF Core costs two failed type lookups.
/// </summary>
internal sealed class EntityTypes
{
    private readonly Lazy<Dictionary<ITypeSymbol, INamedTypeSymbol>> _contextByEntity;

    private EntityTypes(Compilation compilation, INamedTypeSymbol dbContext, INamedTypeSymbol dbSet) =>
        _contextByEntity = new(() => Collect(compilation, dbContext, dbSet));

    public static EntityTypes? For(Compilation compilation) =>
        compilation.GetTypeByMetadataName("Microsoft.EntityFrameworkCore.DbContext") is { } dbContext
        && compilation.GetTypeByMetadataName("Microsoft.EntityFrameworkCore.DbSet`1") is { } dbSet
            ? new EntityTypes(compilation, dbContext, dbSet)
            : null;

    /// <summary>
    /// The entity type a cached method's return type hands out, with the context that declares it: the value itself
    /// (behind <c>Task</c>/<c>ValueTask</c>), or the elements of an array or sequence of entities.
    /// </summary>
    public (ITypeSymbol Type, INamedTypeSymbol Context)? Find(ITypeSymbol returnType)
    {
        ITypeSymbol value = returnType is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } awaitable
            && awaitable.OriginalDefinition.ToDisplayString() is "System.Threading.Tasks.Task<TResult>" or "System.Threading.Tasks.ValueTask<TResult>"
            ? awaitable.TypeArguments[0]
            : returnType;
        foreach (ITypeSymbol candidate in new[] { value }.Concat(ElementTypes(value)))
        {
            ITypeSymbol entity = candidate.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
            if (_contextByEntity.Value.TryGetValue(entity, out INamedTypeSymbol? context))
                return (entity, context);
        }
        return null;
    }

    private static IEnumerable<ITypeSymbol> ElementTypes(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol array)
            return [array.ElementType];
        IEnumerable<INamedTypeSymbol> sequences = type is INamedTypeSymbol named ? new[] { named }.Concat(type.AllInterfaces) : type.AllInterfaces;
        return sequences
            .Where(i => i is { IsGenericType: true } && i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)
            .Select(i => i.TypeArguments[0]);
    }

    private static Dictionary<ITypeSymbol, INamedTypeSymbol> Collect(Compilation compilation, INamedTypeSymbol dbContext, INamedTypeSymbol dbSet)
    {
        var contextByEntity = new Dictionary<ITypeSymbol, INamedTypeSymbol>(SymbolEqualityComparer.Default);
        var namespaces = new Stack<INamespaceOrTypeSymbol>();
        namespaces.Push(compilation.Assembly.GlobalNamespace);
        while (namespaces.Count > 0)
        {
            foreach (INamespaceOrTypeSymbol member in namespaces.Pop().GetMembers().OfType<INamespaceOrTypeSymbol>())
            {
                namespaces.Push(member);
                if (member is not INamedTypeSymbol { TypeKind: TypeKind.Class } type || !DerivesFrom(type, dbContext))
                    continue;
                foreach (IPropertySymbol property in type.GetMembers().OfType<IPropertySymbol>())
                {
                    if (property.Type is INamedTypeSymbol set && SymbolEqualityComparer.Default.Equals(set.OriginalDefinition, dbSet))
                        contextByEntity[set.TypeArguments[0].WithNullableAnnotation(NullableAnnotation.NotAnnotated)] = type;
                }
            }
        }
        return contextByEntity;
    }

    private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
    {
        for (INamedTypeSymbol? current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, baseType))
                return true;
        }
        return false;
    }
}
