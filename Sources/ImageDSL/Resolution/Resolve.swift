extension OperatingSystem {
    /// Folds the services into the system and checks the result.
    ///
    /// - Returns: the canonical model (`nil` when the system has no host name) and every
    ///   problem found, each with the location of the declaration at fault.
    public func resolve() -> (model: SystemModel?, diagnostics: [Diagnostic]) {
        let fold = ServiceFold(services)
        var problems = self.problems + fold.problems
        var sources = self.sources

        guard let hostName else {
            problems.append(Diagnostic("the system has no host name; add HostName(\"…\") to its block", at: location))
            return (nil, problems)
        }

        var packages = Set(self.packages)
        var kernelArguments = self.kernelArguments
        var files: [String: File] = [:], units: [String: SystemdUnit] = [:], mounts: [String: Mount] = [:]
        var users: [String: User] = [:], groups: [String: Group] = [:]

        // What services contribute; two services writing the same thing differently is an error.
        func merge<Value: Equatable>(
            _ value: Value, into table: inout [String: Value], key: String, what: String, from contribution: ServiceFold.Contribution
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
                for name in names where !packages.contains(name) {
                    packages.insert(name)
                    sources["package:\(name)"] = sources["package:\(name)"] ?? contribution.location
                }
            case .file(let file): merge(file, into: &files, key: file.path, what: "file", from: contribution)
            case .unit(let unit): merge(unit, into: &units, key: unit.name, what: "unit", from: contribution)
            case .mount(let mount): merge(mount, into: &mounts, key: mount.mountPoint, what: "mount", from: contribution)
            case .user(let user): merge(user, into: &users, key: user.name, what: "user", from: contribution)
            case .group(let group): merge(group, into: &groups, key: group.name, what: "group", from: contribution)
            case .kernelArguments(let arguments):
                kernelArguments += arguments.filter { !kernelArguments.contains($0) }
            }
        }
        // What the system declares itself wins over what services contribute.
        for file in self.files { files[file.path] = file }
        for unit in self.units { units[unit.name] = unit }
        for mount in self.mounts { mounts[mount.mountPoint] = mount }
        for user in self.users { users[user.name] = user }
        for group in self.groups { groups[group.name] = group }

        let kernelPackage = self.kernelPackage ?? distribution.defaultKernelPackage(for: architecture)
        sources["package:\(kernelPackage)"] = sources["kernel"] ?? location

        var services: [ServiceRecord] = []
        for declaration in fold.services {
            for message in declaration.service.validate() {
                problems.append(Diagnostic(message, at: declaration.location))
            }
            do {
                services.append(ServiceRecord(type: declaration.name, configuration: try JSONValue(encoding: declaration.service)))
            } catch {
                problems.append(Diagnostic(
                    "the value of service '\(declaration.name)' cannot be encoded: \(error)", at: declaration.location))
            }
        }

        let model = SystemModel(
            hostName: hostName,
            distribution: distribution,
            architecture: architecture,
            aptSources: aptSources,
            kernelPackage: kernelPackage,
            kernelArguments: kernelArguments,
            firmware: firmware,
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
            sources: sources)
        return (model, problems + SystemValidator(model).problems)
    }
}
