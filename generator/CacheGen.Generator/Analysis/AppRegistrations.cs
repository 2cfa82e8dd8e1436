using System.Collections.Immutable;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace CacheGen.Generator.Analysis;

/// <summary>
/// The first hour's two silent mistakes, seen across an application's compilation: cached services and a service
/// collection but no <c>HybridCache</c> registered (CG0070: the app starts, then every request fails in DI), and an EF
/// Core transaction without <c>AddCacheGenInvalidation()</c> (CG0071: an eviction inside it runs before the commit).
/// </summary>
/// <remarks>
/// Only in an executable: a library's registrations happen in the app that references it, where this runs too. Any
/// one registration anywhere in the compilation silences the warning, so a false alarm needs a container built with
/// none at all. Calls are recognised by their symbols, never by text.
/// </remarks>
internal sealed class AppRegistrations
{
    private readonly INamedTypeSymbol _hybridCache;
    private readonly INamedTypeSymbol? _cached;
    private readonly INamedTypeSymbol? _invalidates;
    private readonly INamedTypeSymbol? _updates;

    private readonly object _gate = new();
    private string? _cachedType;
    private bool _hasEvictions;
    private bool _registersHybridCache;
    private bool _registersInvalidation;
    private Location? _container;
    private (Location Location, string Call)? _transaction;

    private AppRegistrations(Compilation compilation, INamedTypeSymbol hybridCache)
    {
        _hybridCache = hybridCache;
        _cached = compilation.GetTypeByMetadataName(KnownNames.CachedAttribute);
        _invalidates = compilation.GetTypeByMetadataName(KnownNames.InvalidatesCacheAttribute);
        _updates = compilation.GetTypeByMetadataName(KnownNames.UpdatesCacheAttribute);
    }

    public static void Register(CompilationStartAnalysisContext start)
    {
        if (start.Compilation.Options.OutputKind is not (OutputKind.ConsoleApplication or OutputKind.WindowsApplication or OutputKind.WindowsRuntimeApplication)
            || start.Compilation.GetTypeByMetadataName("Microsoft.Extensions.Caching.Hybrid.HybridCache") is not { } hybridCache)
            return;
        var registrations = new AppRegistrations(start.Compilation, hybridCache);
        start.RegisterSymbolAction(context => registrations.NoteMethod((IMethodSymbol)context.Symbol), SymbolKind.Method);
        start.RegisterOperationAction(context => registrations.NoteInvocation((IInvocationOperation)context.Operation), OperationKind.Invocation);
        start.RegisterOperationAction(context => registrations.NoteCreation((IObjectCreationOperation)context.Operation), OperationKind.ObjectCreation);
        start.RegisterCompilationEndAction(registrations.Report);
    }

    private void NoteMethod(IMethodSymbol method)
    {
        bool cached = false, evicts = false;
        foreach (AttributeData attribute in method.GetAttributes())
        {
            cached |= SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _cached);
            evicts |= SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _invalidates) || SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _updates);
        }
        if (!cached && !evicts)
            return;
        lock (_gate)
        {
            // The first by name, so the message does not depend on the order symbols were analyzed in.
            string name = method.ContainingType.ToDisplayString();
            if (_cachedType is null || string.CompareOrdinal(name, _cachedType) < 0)
                _cachedType = name;
            _hasEvictions |= evicts;
        }
    }

    private void NoteInvocation(IInvocationOperation invocation)
    {
        IMethodSymbol method = invocation.TargetMethod;
        lock (_gate)
        {
            if (RegistersHybridCache(invocation))
                _registersHybridCache = true;
            else if (method.Name == "AddCacheGenInvalidation" && method.ContainingNamespace?.ToDisplayString() == "CacheGen.EntityFrameworkCore")
                _registersInvalidation = true;
            else if (BuildsContainer(method))
                _container = First(_container, invocation.Syntax.GetLocation());
            else if (OpensEfCoreTransaction(method) && (_transaction is null || Before(invocation.Syntax.GetLocation(), _transaction.Value.Location)))
                _transaction = (invocation.Syntax.GetLocation(), "Database." + method.Name);
        }
    }

    private void NoteCreation(IObjectCreationOperation creation)
    {
        if (creation.Type is not INamedTypeSymbol type)
            return;
        lock (_gate)
        {
            // Whoever constructs a HybridCache provides one, whichever way it reaches the services.
            if (DerivesFromHybridCache(type))
                _registersHybridCache = true;
            else if (type.Name == "ServiceCollection" && type.ContainingNamespace?.ToDisplayString() == "Microsoft.Extensions.DependencyInjection")
                _container = First(_container, creation.Syntax.GetLocation());
        }
    }

    private void Report(CompilationAnalysisContext context)
    {
        if (_cachedType is not null && _container is not null && !_registersHybridCache)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoHybridCacheRegistered, _container, _cachedType));
        if (_hasEvictions && _transaction is { } transaction && !_registersInvalidation)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EvictionBeforeEfCoreCommit, transaction.Location, transaction.Call));
    }

    /// <summary>CacheGen's, Microsoft's or FusionCache's registration, or any that names HybridCache as its type.</summary>
    private bool RegistersHybridCache(IInvocationOperation invocation)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (method.Name is "AddCacheGen" or "AddHybridCache" or "AsHybridCache")
            return true;
        if (method.TypeArguments.OfType<INamedTypeSymbol>().Any(DerivesFromHybridCache))
            return true;
        return invocation.Arguments.Any(a => a.Value is ITypeOfOperation { TypeOperand: INamedTypeSymbol operand } && DerivesFromHybridCache(operand));
    }

    private bool DerivesFromHybridCache(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, _hybridCache))
                return true;
        }
        return false;
    }

    private static readonly ImmutableHashSet<string> ContainerFactories =
        ImmutableHashSet.Create("CreateBuilder", "CreateSlimBuilder", "CreateEmptyBuilder", "CreateApplicationBuilder", "CreateDefaultBuilder", "CreateEmptyApplicationBuilder");

    /// <summary>The host builders an app starts from (ASP.NET Core's WebApplication, the generic Host).</summary>
    private static bool BuildsContainer(IMethodSymbol method) =>
        ContainerFactories.Contains(method.Name)
        && method.ContainingType is { Name: "WebApplication" or "Host" } owner
        && owner.ContainingNamespace?.ToDisplayString() is "Microsoft.AspNetCore.Builder" or "Microsoft.Extensions.Hosting";

    /// <summary><c>Database.BeginTransaction[Async]</c> and <c>UseTransaction[Async]</c>, instance or relational extension.</summary>
    private static bool OpensEfCoreTransaction(IMethodSymbol method)
    {
        if (method.Name is not ("BeginTransaction" or "BeginTransactionAsync" or "UseTransaction" or "UseTransactionAsync"))
            return false;
        ITypeSymbol? on = method.ReducedFrom is { } extension ? extension.Parameters.FirstOrDefault()?.Type
            : method.IsExtensionMethod ? method.Parameters.FirstOrDefault()?.Type
            : method.ContainingType;
        return on is { Name: "DatabaseFacade" } && on.ContainingNamespace?.ToDisplayString() == "Microsoft.EntityFrameworkCore.Infrastructure";
    }

    // The first in source order, so the report does not depend on the order operations were analyzed in.
    private static Location First(Location? current, Location candidate) => current is null || Before(candidate, current) ? candidate : current;

    private static bool Before(Location a, Location b)
    {
        int byFile = string.CompareOrdinal(a.SourceTree?.FilePath, b.SourceTree?.FilePath);
        return byFile < 0 || (byFile == 0 && a.SourceSpan.Start < b.SourceSpan.Start);
    }
}
