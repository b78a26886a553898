extension OperatingSystem {
    /// Folds the services into the system and checks the result.
    ///
    /// - Returns: the canonical model (`nil` when the system has problems that leave it
    ///   without a host name) and every problem found, each at the declaration at fault.
    public func resolve() -> (model: SystemModel?, diagnostics: [Diagnostic]) {
        let fold = ServiceFold(services, removed: removedServices)
        var problems = self.problems + fold.problems
        var sources = self.sources
        if hostName == nil {
            problems.append(Diagnostic("the system has no host name; add HostName(\"…\") to its block", at: location))
        }

        var packages = Set(self.packages)
        var kernelArguments = self.kernelArguments
        var files = Table<File>(), units = Table<SystemdUnit>(), mounts = Table<Mount>()
        var users = Table<User>(), groups = Table<Group>()
        var checks = Table<Check>()

        // What services contribute; two services setting the same thing differently is an error.
        func merge<Value: Equatable>(
            _ value: Value, into table: inout Table<Value>, key: String, what: String, from contribution: ServiceFold.Contribution
        ) {
            let sourceKey = "\(what):\(key)"
            if let existing = table[key], existing != value {
                problems.append(Diagnostic(
                    "\(what) '\(key)' is set differently by service '\(contribution.service)' and at \(sources[sourceKey]!)",
                    at: contribution.location))
                return
            }
            table[key] = value
            sources[sourceKey] = sources[sourceKey] ?? contribution.location
        }
        for contribution in fold.contributions {
            switch contribution.value {
            case .packages(let names):
                for name in names where packages.insert(name).inserted {
                    sources["package:\(name)"] = sources["package:\(name)"] ?? contribution.location
                }
            case .file(let file): merge(file, into: &files, key: file.path, what: "file", from: contribution)
            case .unit(let unit): merge(unit, into: &units, key: unit.name, what: "unit", from: contribution)
            case .mount(let mount): merge(mount, into: &mounts, key: mount.mountPoint, what: "mount", from: contribution)
            case .user(let user): merge(user, into: &users, key: user.name, what: "user", from: contribution)
            case .group(let group): merge(group, into: &groups, key: group.name, what: "group", from: contribution)
            case .kernelArguments(let arguments):
                kernelArguments += arguments.filter { !kernelArguments.contains($0) }
            case .check(let check): merge(check, into: &checks, key: check.name, what: "check", from: contribution)
            }
        }
        // What the system declares itself wins over what services contribute.
        for user in self.users { users[user.name] = user }
        for group in self.groups { groups[group.name] = group }
        for unit in self.units { units[unit.name] = unit }
        for mount in self.mounts { mounts[mount.mountPoint] = mount }
        // What every system contributes from its own fields, where nothing else set it.
        let context = EssentialContribution.Context(system: self, users: users.values, sources: sources)
        for essential in EssentialContribution.all {
            for (value, location) in essential.contribute(context) {
                switch value {
                case .packages(let names):
                    for name in names where packages.insert(name).inserted { sources["package:\(name)"] = location }
                case .file(let file) where files[file.path] == nil && !self.files.contains(where: { $0.path == file.path }):
                    files[file.path] = file
                    sources["file:\(file.path)"] = location
                case .check(let check) where checks[check.name] == nil:
                    checks[check.name] = check
                    sources["check:\(check.name)"] = sources["check:\(check.name)"] ?? location
                case .unit(let unit) where units[unit.name] == nil:
                    units[unit.name] = unit
                    sources["unit:\(unit.name)"] = location
                case .kernelArguments(let arguments):
                    kernelArguments += arguments.filter { !kernelArguments.contains($0) }
                case .unit, .user, .group, .mount, .file, .check:
                    break
                }
            }
        }
        for file in self.files { files[file.path] = file }

        // The declared checks (which may replace the essential ones), less those turned off.
        for check in self.checks { checks[check.name] = check }
        for (name, removal) in self.removedChecks.sorted(by: { $0.key < $1.key }) {
            if checks[name] == nil, self.sources["check:\(name)"] == nil {
                problems.append(Diagnostic("cannot remove check '\(name)': the system has no such check", at: removal))
            }
            checks[name] = nil
        }

        let kernelPackage = self.kernelPackage ?? distribution.defaultKernelPackage(for: architecture)
        sources["package:\(kernelPackage)"] = sources["kernel"] ?? location

        var services: [ServiceRecord] = []
        for declaration in fold.services {
            for message in declaration.service.validate() {
                problems.append(Diagnostic(message, at: declaration.location))
            }
            sources["service:\(declaration.name)"] = sources["service:\(declaration.name)"] ?? declaration.location
            do {
                services.append(ServiceRecord(type: declaration.name, configuration: try JSONValue(encoding: declaration.service)))
            } catch {
                problems.append(Diagnostic(
                    "the value of service '\(declaration.name)' cannot be encoded: \(error)", at: declaration.location))
            }
        }

        var model = SystemModel(
            hostName: hostName ?? "",
            distribution: distribution,
            architecture: architecture,
            aptSources: aptSources,
            snapshotArchives: snapshotArchives,
            sharedStore: sharedStore,
            kernelPackage: kernelPackage,
            kernelArguments: kernelArguments,
            firmware: firmware,
            format: format == .disk ? nil : format,
            disk: disk,
            timezone: timezone,
            locales: locales,
            keyboard: keyboard,
            network: network,
            packages: packages.sorted(),
            users: users.values.sorted { $0.name < $1.name },
            groups: groups.values.sorted { $0.name < $1.name },
            files: files.values.sorted { $0.path < $1.path },
            units: units.values.sorted { $0.name < $1.name },
            mounts: mounts.values.sorted { $0.mountPoint < $1.mountPoint },
            services: services.enumerated().sorted { ($0.element.type, $0.offset) < ($1.element.type, $1.offset) }.map(\.element),
            checks: checks.values.sorted { $0.name < $1.name },
            deployment: deployment,
            sources: sources)
        problems += SystemValidator(model, users: users.values, groups: groups.values).problems
        for message in (deployment?.validate() ?? []) + (deployment?.problems(with: model.disk) ?? []) {
            problems.append(Diagnostic(message, at: sources["deployment"] ?? location))
        }
        model.packageStages = packageStages(top: model)
        return (hostName == nil ? nil : model, problems)
    }

    /// The inheritance chain's package stages, bottom to top: each template's request, then the
    /// system's. A template that asks for what the stage below it asks shares that stage.
    private func packageStages(top: SystemModel) -> [PackageStage] {
        var stages: [PackageStage] = []
        func add(_ requested: [String], at location: SourceLocation) {
            if requested != stages.last?.requested { stages.append(PackageStage(location: location, requested: requested)) }
        }
        for template in templates {
            var stage = template
            stage.hostName = stage.hostName ?? "template"  // templates have none; it changes no package
            if let model = stage.resolve().model { add(model.requestedPackages, at: template.location) }
        }
        add(top.requestedPackages, at: location)
        return stages
    }
}

/// A table keyed by name that remembers the order keys were first added in.
struct Table<Value> {
    private var keys: [String] = []
    private var entries: [String: Value] = [:]

    subscript(key: String) -> Value? {
        get { entries[key] }
        set {
            if entries[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            entries[key] = newValue
        }
    }

    /// The values in the order their keys were first added.
    var values: [Value] { keys.map { entries[$0]! } }
}
